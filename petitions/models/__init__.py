"""The petitions app's models: campaigns and their signers (campaigns), and what is delivered
to whom (delivery). Django finds them here."""

from petitions.models.campaigns import (
    GOAL_STEPS,
    DeliverySchedule,
    FlaggedSignature,
    Petition,
    PetitionMilestone,
    PetitionUpdate,
    Signature,
    SponsorOptIn,
    Topic,
    goal_steps,
)
from petitions.models.delivery import Delivery, PostalArea, Response, Target

__all__ = [
    "GOAL_STEPS",
    "Delivery",
    "DeliverySchedule",
    "FlaggedSignature",
    "Petition",
    "PetitionMilestone",
    "PetitionUpdate",
    "PostalArea",
    "Response",
    "Signature",
    "SponsorOptIn",
    "Target",
    "Topic",
    "goal_steps",
]

"""The petitions app's models: campaigns and their signers (campaigns), and what is delivered
to whom (delivery). Django finds them here."""

from petitions.models.campaigns import (
    GOAL_STEPS,
    ConsentWording,
    DeliverySchedule,
    FlaggedSignature,
    Petition,
    PetitionMilestone,
    PetitionUpdate,
    Signature,
    SponsorOptIn,
    SupporterExport,
    Topic,
    goal_steps,
)
from petitions.models.delivery import Delivery, PostalArea, Response, Target
from petitions.models.drafting import PetitionInvitation, PetitionReview, PetitionVersion
from petitions.models.paper import PaperBatch, PaperSignature
from petitions.models.questions import Question, QuestionKind, QuestionSet
from petitions.models.thresholds import Threshold, ThresholdRequest

__all__ = [
    "GOAL_STEPS",
    "ConsentWording",
    "Delivery",
    "DeliverySchedule",
    "FlaggedSignature",
    "PaperBatch",
    "PaperSignature",
    "Petition",
    "PetitionInvitation",
    "PetitionMilestone",
    "PetitionReview",
    "PetitionUpdate",
    "PetitionVersion",
    "PostalArea",
    "Question",
    "QuestionKind",
    "QuestionSet",
    "Response",
    "Signature",
    "SponsorOptIn",
    "SupporterExport",
    "Target",
    "Threshold",
    "ThresholdRequest",
    "Topic",
    "goal_steps",
]

"""Campaign content stored once per language (django-modeltranslation); see settings for the
fallback between languages."""

from modeltranslation.translator import TranslationOptions, register

from petitions.models import Petition, PetitionUpdate, Question, Topic


@register(Topic)
class TopicTranslation(TranslationOptions):
    fields = ("name", "description")


@register(Petition)
class PetitionTranslation(TranslationOptions):
    fields = ("title", "summary", "body", "demand", "addressed_to", "outcome", "image_alt")


@register(PetitionUpdate)
class PetitionUpdateTranslation(TranslationOptions):
    fields = ("title", "body")


@register(Question)
class QuestionTranslation(TranslationOptions):
    fields = ("label", "choices")

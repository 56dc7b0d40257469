from modeltranslation.translator import TranslationOptions, register

from letters.models import LetterUpdate, OpenLetter


@register(OpenLetter)
class OpenLetterTranslation(TranslationOptions):
    fields = ("title", "summary", "body", "addressed_to", "ask", "image_alt")


@register(LetterUpdate)
class LetterUpdateTranslation(TranslationOptions):
    fields = ("text",)

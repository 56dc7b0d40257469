from django.apps import AppConfig


class LettersConfig(AppConfig):
    # Open letters arrive with their own issue; the app exists now so the layout is final.
    name = "letters"

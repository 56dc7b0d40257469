from django.urls import path

from letters import share_cards, views

app_name = "letters"

urlpatterns = [
    path("<slug:slug>/", views.letter_detail, name="detail"),
    path("<slug:slug>/sign/", views.individual_sign, name="sign"),
    path("<slug:slug>/check-your-inbox/", views.individual_check_inbox, name="check_inbox"),
    path("<slug:slug>/confirm/<str:token>/", views.individual_confirm, name="confirm"),
    path("<slug:slug>/cosign/", views.letter_cosign, name="cosign"),
    path("<slug:slug>/manage/", views.letter_manage, name="manage"),
    path(
        "<slug:slug>/manage/signatures/<int:signature_id>/",
        views.cosignature_decide,
        name="decide_signature",
    ),
    path(
        "<slug:slug>/manage/statements/<int:statement_id>/",
        views.statement_decide,
        name="decide_statement",
    ),
    path("<slug:slug>/withdraw/<int:signature_id>/", views.cosignature_withdraw, name="withdraw"),
    path("<slug:slug>/press/", views.letter_press, name="press"),
    path("<slug:slug>/card/<int:count>.png", share_cards.letter_card, name="card"),
    path("<slug:slug>/press.txt", views.letter_press_text, name="press_text"),
    path(
        "<slug:slug>/organizations.csv",
        views.letter_organizations_csv,
        name="organizations_csv",
    ),
]

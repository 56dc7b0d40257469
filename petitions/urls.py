from django.urls import path

from petitions import share_cards, views
from petitions.thresholds import views as threshold_views

app_name = "petitions"

urlpatterns = [
    path("<slug:slug>/", views.petition_detail, name="detail"),
    path("<slug:slug>/from/<slug:source>/", views.petition_detail_from, name="detail_from"),
    path("<slug:slug>/embed/", views.petition_embed, name="embed"),
    path("<slug:slug>/card/<int:count>.png", share_cards.petition_card, name="card"),
    path("<slug:slug>/sign/", views.signature_create, name="sign"),
    path("<slug:slug>/check-your-inbox/", views.signature_check_inbox, name="check_inbox"),
    path("<slug:slug>/confirm/<str:token>/", views.signature_confirm, name="confirm"),
    path("<slug:slug>/confirm/<str:token>/renew/", views.signature_renew, name="renew"),
    path("<slug:slug>/new-link/", views.signature_new_link, name="new_link"),
    path("<slug:slug>/unsubscribe/<str:token>/", views.signature_unsubscribe, name="unsubscribe"),
    path(
        "<slug:slug>/respond/<str:token>/",
        threshold_views.threshold_answer,
        name="threshold_answer",
    ),
]

from django.urls import path

from petitions import paper_views

app_name = "paper"

urlpatterns = [
    path("<slug:slug>/", paper_views.paper_petition, name="petition"),
    path("<slug:slug>/sheet.pdf", paper_views.paper_sheet, name="sheet"),
    path("<slug:slug>/qr.svg", paper_views.share_qr, {"kind": "svg"}, name="qr_svg"),
    path("<slug:slug>/qr.png", paper_views.share_qr, {"kind": "png"}, name="qr_png"),
    path("<slug:slug>/batches/", paper_views.batch_new, name="batch_new"),
    path("<slug:slug>/import/", paper_views.batch_import, name="import"),
    path("<slug:slug>/batches/<int:pk>/", paper_views.batch_detail, name="batch"),
    path("<slug:slug>/batches/<int:pk>/finish/", paper_views.batch_finish, name="batch_finish"),
    path(
        "<slug:slug>/batches/<int:pk>/lines/<int:row>/delete/",
        paper_views.row_delete,
        name="row_delete",
    ),
]

from django.contrib.auth import views as auth_views
from django.urls import include, path

from lodestar.web import (
    daily_reports,
    deal_edit,
    exports,
    files,
    knowledge,
    reps,
    task_pages,
    team,
    views,
    webhooks,
    weekly,
)
from lodestar.web.password_reset import (
    InvitationAccept,
    PasswordResetConfirm,
    PasswordResetRequest,
    PasswordResetSent,
)

app_name = "web"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", PasswordResetRequest.as_view(), name="password-reset"),
    path("password-reset/sent/", PasswordResetSent.as_view(), name="password-reset-sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        PasswordResetConfirm.as_view(),
        name="password-reset-confirm",
    ),
    path("invitation/<uidb64>/<token>/", InvitationAccept.as_view(), name="invitation-accept"),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="web/password_reset_complete.html"
        ),
        name="password-reset-complete",
    ),
    path("", views.home, name="home"),
    path("today/", views.today, name="today"),
    path("today/deals/", views.today_deals, name="today-deals"),
    path("daily-report/", daily_reports.daily_report, name="daily-report"),
    path("daily-report/card/", daily_reports.daily_report_card, name="daily-report-card"),
    path("daily-reports/", daily_reports.daily_reports_team, name="daily-reports"),
    path(
        "daily-reports/settings/",
        daily_reports.daily_report_settings,
        name="daily-report-settings",
    ),
    path(
        "daily-reports/reps/<int:rep_id>/",
        daily_reports.daily_reports_rep,
        name="daily-reports-rep",
    ),
    path("", include("lodestar.web.record_urls")),
    path("tasks/<int:task_id>/done/", views.task_done, name="task-done"),
    path(
        "tasks/<int:task_id>/reschedule/", task_pages.task_reschedule_view, name="task-reschedule"
    ),
    path("tasks/<int:task_id>/reassign/", task_pages.task_reassign_view, name="task-reassign"),
    path("today/tasks/", task_pages.today_task_add, name="today-task-add"),
    path("deals/<int:deal_id>/tasks/", task_pages.deal_task_add, name="deal-task-add"),
    path("files/<int:attachment_id>/", files.attachment_open, name="attachment"),
    path(
        "files/<int:attachment_id>/download/", files.attachment_download, name="attachment-download"
    ),
    path("deals/<int:deal_id>/", views.deal_detail, name="deal"),
    path("deals/<int:deal_id>/gate/", views.gate_panel, name="gate-panel"),
    path("deals/<int:deal_id>/fields/", deal_edit.deal_fields, name="deal-fields"),
    path("deals/<int:deal_id>/edit/", deal_edit.deal_edit, name="deal-edit"),
    path("deals/<int:deal_id>/criteria/field/", deal_edit.criterion_field, name="criterion-field"),
    path(
        "deals/<int:deal_id>/criteria/upload/", deal_edit.criterion_upload, name="criterion-upload"
    ),
    path("deals/<int:deal_id>/criteria/event/", deal_edit.criterion_event, name="criterion-event"),
    path(
        "deals/<int:deal_id>/criteria/contact/",
        deal_edit.criterion_contact,
        name="criterion-contact",
    ),
    path("deals/<int:deal_id>/needs/", views.deal_needs, name="deal-needs"),
    path("deals/<int:deal_id>/advance/", views.advance, name="advance"),
    path("deals/<int:deal_id>/call/", views.log_call, name="log-call"),
    path("deals/<int:deal_id>/meeting/", views.log_meeting, name="log-meeting"),
    path("deals/<int:deal_id>/upload/", views.upload, name="upload"),
    path("deals/<int:deal_id>/exemption/", views.exemption, name="exemption"),
    path("board/", views.board, name="board"),
    path("board/<int:deal_id>/move/", views.board_move, name="board-move"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("dashboard/parts/<slug:part>/", views.dashboard_part, name="dashboard-part"),
    path("dashboard/<slug:metric>/", views.drilldown, name="drilldown"),
    path("alerts/<int:alert_id>/acknowledge/", views.alert_ack, name="alert-ack"),
    path("alerts/acknowledge/", reps.alerts_ack, name="alerts-acknowledge"),
    path("alerts/group/", reps.alert_group, name="alert-group"),
    path("reps/<int:rep_id>/", reps.rep_detail, name="rep"),
    path("alerts/<int:alert_id>/coaching/", views.alert_coaching, name="alert-coaching"),
    path("playbooks/", views.playbooks, name="playbooks"),
    path("knowledge/", knowledge.knowledge_index, name="knowledge-index"),
    path("knowledge/new/", knowledge.knowledge_new, name="knowledge-new"),
    path("knowledge/<int:entry_id>/", knowledge.knowledge_entry, name="knowledge"),
    path("knowledge/<int:entry_id>/edit/", knowledge.knowledge_edit, name="knowledge-edit"),
    path("knowledge/<int:entry_id>/delete/", knowledge.knowledge_delete, name="knowledge-delete"),
    path(
        "knowledge/<int:entry_id>/files/", knowledge.knowledge_file_upload, name="knowledge-files"
    ),
    path(
        "knowledge/<int:entry_id>/files/<int:file_id>/",
        knowledge.knowledge_file,
        name="knowledge-file",
    ),
    path(
        "knowledge/<int:entry_id>/files/<int:file_id>/delete/",
        knowledge.knowledge_file_delete,
        name="knowledge-file-delete",
    ),
    path("inbox/", views.inbox_view, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox-read"),
    path("inbox/calendar/", views.calendar_feed, name="calendar-feed"),
    path("team/", team.team_members, name="team"),
    path("team/invite/", team.team_invite, name="team-invite"),
    path("team/<int:user_id>/", team.team_member, name="team-member"),
    path("team/<int:user_id>/role/", team.team_member_role, name="team-member-role"),
    path(
        "team/<int:user_id>/deactivate/",
        team.team_member_deactivate,
        name="team-member-deactivate",
    ),
    path(
        "team/<int:user_id>/reactivate/",
        team.team_member_reactivate,
        name="team-member-reactivate",
    ),
    path(
        "team/<int:user_id>/invite-again/",
        team.team_member_invite_again,
        name="team-member-invite-again",
    ),
    path("team/teams/", team.teams, name="teams"),
    path("team/teams/new/", team.team_create, name="team-create"),
    path("team/teams/<int:team_id>/", team.team_update, name="team-update"),
    path("audit/", team.audit_log, name="audit"),
    path("settings/webhooks/", webhooks.webhooks, name="webhooks"),
    path("settings/webhooks/new/", webhooks.webhook_create, name="webhook-create"),
    path("settings/webhooks/<int:webhook_id>/", webhooks.webhook_detail, name="webhook"),
    path("settings/webhooks/<int:webhook_id>/log/", webhooks.webhook_log, name="webhook-log"),
    path("settings/webhooks/<int:webhook_id>/edit/", webhooks.webhook_edit, name="webhook-edit"),
    path(
        "settings/webhooks/<int:webhook_id>/switch/",
        webhooks.webhook_toggle,
        name="webhook-toggle",
    ),
    path("settings/webhooks/<int:webhook_id>/test/", webhooks.webhook_test, name="webhook-test"),
    path(
        "settings/webhooks/<int:webhook_id>/rotate/",
        webhooks.webhook_rotate,
        name="webhook-rotate",
    ),
    path(
        "settings/webhooks/<int:webhook_id>/delete/",
        webhooks.webhook_delete,
        name="webhook-delete",
    ),
    path("reports/weekly/", weekly.weekly_reports, name="weekly-reports"),
    path("reports/weekly/generate/", weekly.weekly_generate, name="weekly-generate"),
    path("reports/weekly/schedule/", weekly.weekly_schedule_view, name="weekly-schedule"),
    path("reports/weekly/<int:report_id>/", weekly.weekly_report, name="weekly-report"),
    path(
        "reports/weekly/<int:report_id>/pdf/",
        weekly.weekly_report_pdf_view,
        name="weekly-report-pdf",
    ),
    path("export/<slug:name>/", exports.export_view, name="export"),
    path("reports/weekly/", weekly.weekly_reports, name="weekly-reports"),
    path("reports/weekly/generate/", weekly.weekly_generate, name="weekly-generate"),
    path("reports/weekly/schedule/", weekly.weekly_schedule_view, name="weekly-schedule"),
    path("reports/weekly/<int:report_id>/", weekly.weekly_report, name="weekly-report"),
    path(
        "reports/weekly/<int:report_id>/pdf/",
        weekly.weekly_report_pdf_view,
        name="weekly-report-pdf",
    ),
    path("export/<slug:name>/", exports.export_view, name="export"),
]

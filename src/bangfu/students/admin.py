"""Admin pages of the students app. For now only the survey rules, which the office edits here."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from bangfu.students.models import SurveyRule


@admin.register(SurveyRule)
class SurveyRuleAdmin(SimpleHistoryAdmin):
    list_display = ("school", "category", "answer_field", "threshold", "hardship_level", "is_active")
    list_filter = ("school", "is_active", "category")
    list_editable = ("is_active",)
    ordering = ("school__path", "category", "answer_field", "threshold")

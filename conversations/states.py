"""The one map of every dialog's states.

Values are strings so that the persisted state reads plainly in the database.
"""

from enum import StrEnum


class Enrolment(StrEnum):
    CODE = "enrolment.code"
    CONFIRM = "enrolment.confirm"
    NAME = "enrolment.name"
    PHONE = "enrolment.phone"
    LANGUAGE = "enrolment.language"


class Invitation(StrEnum):
    ROLE = "invitation.role"
    AREA = "invitation.area"


class Registration(StrEnum):
    RESUME = "registration.resume"
    HAMLET = "registration.hamlet"
    FORM = "registration.form"
    CANCEL = "registration.cancel"


class RegistrationBulk(StrEnum):
    HAMLET = "registration_bulk.hamlet"
    LIST = "registration_bulk.list"
    CARRY = "registration_bulk.carry"


class RegistrationEdit(StrEnum):
    VALUE = "registration_edit.value"


class ProgrammeYearDialog(StrEnum):
    PROVINCE = "programme_year.province"
    DATE = "programme_year.date"


class Evidence(StrEnum):
    FIND = "evidence.find"
    CHECKLIST = "evidence.checklist"
    PHOTOS = "evidence.photos"


class Review(StrEnum):
    REASON = "review.reason"


class Recognition(StrEnum):
    NUMBER = "recognition.number"
    DATE = "recognition.date"

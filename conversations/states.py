"""The one map of every dialog's states.

Values are strings so that the persisted state reads plainly in the database. Each enum is a
dialog's steps (`ReviewStep`), named apart from the domain thing the dialog handles (`Review`).
"""

from enum import StrEnum


class EnrolmentStep(StrEnum):
    CODE = "enrolment.code"
    CONFIRM = "enrolment.confirm"
    NAME = "enrolment.name"
    PHONE = "enrolment.phone"
    LANGUAGE = "enrolment.language"


class InvitationStep(StrEnum):
    ROLE = "invitation.role"
    AREA = "invitation.area"


class RegistrationStep(StrEnum):
    RESUME = "registration.resume"
    HAMLET = "registration.hamlet"
    FORM = "registration.form"
    CANCEL = "registration.cancel"


class RegistrationBulkStep(StrEnum):
    HAMLET = "registration_bulk.hamlet"
    LIST = "registration_bulk.list"
    CARRY = "registration_bulk.carry"


class RegistrationEditStep(StrEnum):
    VALUE = "registration_edit.value"


class ProgrammeYearStep(StrEnum):
    PROVINCE = "programme_year.province"
    DATE = "programme_year.date"


class EvidenceStep(StrEnum):
    FIND = "evidence.find"
    CHECKLIST = "evidence.checklist"
    PHOTOS = "evidence.photos"


class ReviewStep(StrEnum):
    REASON = "review.reason"


class RecognitionStep(StrEnum):
    NUMBER = "recognition.number"
    DATE = "recognition.date"

"""The buttons one dialog shows and another answers (the rest are declared at the top of the
dialog that answers them). Declared here so that neither dialog imports the other."""

from bot.actions import Action, word
from storage.criteria import ModelKind
from storage.registrations import BulkMode, Status

# /dangky
REGISTER_AGAIN = Action("dangky", "reg:again")
# /nhapds, opened from /dangky's first screens
BULK_MODE = Action("nhapds", "bulk:{mode}", mode=BulkMode)
# /danhsach: a page of the list, filtered by kind and status
KIND_FILTERS = ("all", ModelKind.FAMILY.value, ModelKind.CLAN.value)
STATUS_FILTERS = ("all", *(status.value for status in Status))
LIST_PAGE = Action(
    "danhsach",
    "rgl:ls:{kind}:{status}:{offset}",
    kind=KIND_FILTERS,
    status=STATUS_FILTERS,
    offset=int,
)
# /danhgia
ASSESS_LIST = Action("danhgia", "sa:list:{offset}", offset=int)
ASSESS_OPEN = Action("danhgia", "sa:open:{registration_id}", registration_id=int)
# /minhchung
EVIDENCE_PAGE = Action("minhchung", "ev:page:{offset}", offset=int)
INDICATOR_CODE = word(40, r"[^:\s]")  # as storage.criteria allows a code: no space
EVIDENCE_INDICATOR = Action(
    "minhchung",
    "ev:ind:{registration_id}:{code}",
    registration_id=int,
    code=INDICATOR_CODE,
)

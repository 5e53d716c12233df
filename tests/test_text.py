import unicodedata

from storage.text import fold, nfc, search_key


def test_nfc_trims_collapses_and_composes():
    assert nfc("  Nguye\u0302\u0303n   Va\u0306n\tAn ") == "Nguyễn Văn An"
    assert unicodedata.is_normalized("NFC", nfc("Hoa\u0300"))


def test_search_key_ignores_diacritics_case_spacing_and_tone_placement():
    assert search_key("Nguyễn Văn Hoà") == search_key("nguyen  van HOA") == "nguyen van hoa"
    assert search_key("Hoà") == search_key("Hòa")
    assert search_key("Đặng Thị Đào") == "dang thi dao"


def test_fold_keeps_diacritics():
    assert fold("THÔN  ĐÔNG") == fold("thôn đông")
    assert fold("Thôn Đông") != fold("Thôn Đồng")

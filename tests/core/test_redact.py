"""PII redaction: what each detector finds and leaves, placeholders, pseudonyms, and no raw value in any output."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cxlens._pii import find_pii, iban_valid, luhn_valid
from cxlens.cli import main
from cxlens.redact import Pseudonyms, redact_frame, redact_text

ZENDESK = Path(__file__).parent / "data" / "zendesk"


def found(text: str) -> list[tuple[str, str]]:
    return [(text[s:e], kind) for s, e, kind in find_pii(text)]


@pytest.mark.parametrize("text, expected", [
    ("mail maria.lopez+cx@mail.example.co.uk now", [("maria.lopez+cx@mail.example.co.uk", "EMAIL")]),
    ("write to joe [at] example [dot] com", [("joe [at] example [dot] com", "EMAIL")]),
    ("card 4111 1111 1111 1111 ok", [("4111 1111 1111 1111", "CARD")]),
    ("card 4111-1111-1111-1111", [("4111-1111-1111-1111", "CARD")]),
    ("IBAN GB82 WEST 1234 5698 7654 32 thanks", [("GB82 WEST 1234 5698 7654 32", "IBAN")]),
    ("DE89370400440532013000", [("DE89370400440532013000", "IBAN")]),
    ("SSN 123-45-6789", [("123-45-6789", "SSN")]),
    ("my ssn: 123456789", [("123456789", "SSN")]),
    ("call +44 20 7946 0958 today", [("+44 20 7946 0958", "PHONE")]),
    ("ring (555) 123-4567", [("(555) 123-4567", "PHONE")]),
    ("my mobile is 07700 900123", [("07700 900123", "PHONE")]),
    ("server 192.168.1.20 down", [("192.168.1.20", "IP")]),
    ("from 2001:db8::ff00:42:8329", [("2001:db8::ff00:42:8329", "IP")]),
    ("ship to 221B Baker Street, London NW1 6XE", [("221B Baker Street, London NW1 6XE", "ADDRESS")]),
    ("P.O. Box 4471 please", [("P.O. Box 4471", "ADDRESS")]),
    ("Thanks, Priya!", [("Priya", "PERSON")]),
    ("hi im joe from korea", [("joe", "PERSON")]),
    ("I spoke with Mark Henderson", [("Mark Henderson", "PERSON")]),
    ("Dr. Okafor called", [("Okafor", "PERSON")]),
    ("@TeamYouTube help", [("@TeamYouTube", "HANDLE")]),
    ("Hi Mathew, sorry about this", [("Mathew", "PERSON")]),  # not a listed name, but after a greeting
    ("I expect an answer\nrespectfully\nLilian Surubaru", [("Lilian Surubaru", "PERSON")]),  # a signature
    ("Let us know. Thanks.^Kartika", [("Kartika", "PERSON")]),  # an agent's signature on Twitter
    ("Call 914-329-0185.", [("914-329-0185", "PHONE")]),
    ("Version 14.2.4.8. 212-555-3563 is my cell", [("212-555-3563", "PHONE")]),  # not glued to the version
    # phones as customers write them in tweets (issue 24's real-message set)
    ("Please call my mobile number 7755087826. Thanks", [("7755087826", "PHONE")]),
    ("please call us back to rebook. 7403607771 we can't get through", [("7403607771", "PHONE")]),
    ("hold has now progressed to over an hour...919-675-0985", [("919-675-0985", "PHONE")]),
    ("the same failed # I already had. 610-362-7498(99) VM full.", [("610-362-7498", "PHONE")]),
    ("hung up on now many times trying to cal 8004337300 crazy", [("8004337300", "PHONE")]),
    ("Called 1800IFlySWA, long wait", [("1800IFlySWA", "PHONE")]),
    ("not a local number for Malaysia 0011 800-55558000. What", [("0011 800-55558000", "PHONE")]),
    ("Hotel, 13341 Woodland Park Drive Herndon, Virginia", [("13341 Woodland Park Drive", "ADDRESS")]),
    ("MAKE THE VIDEO BY SELENA GOMEZ WORLDWIDE", [("SELENA GOMEZ", "PERSON")]),
    ("phone: 01.23.45.67.89", [("01.23.45.67.89", "PHONE")]),           # a cued dotted number is a phone
    ("Sure, Virginia will call you", [("Virginia", "PERSON")]),         # a name after a comma, not a state
    ("I spoke with Karen office manager", [("Karen", "PERSON")]),
])
def test_finds(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    "order #A-10023 and order number 1234567890 and order 112-3456789-1234567",
    "not a card: 4111 1111 1111 1112 (Luhn fails)",
    "bad IBAN GB82 WEST 1234 5698 7654 33",
    "SSN-like but invalid 000-12-3456 and 666-12-3456",
    "version 1.16.0.53 crashed on build 10.0.19041.1",
    "on 2024-03-04 at 10:30, 12/06/2024, price $1,299.99, 4.2.1",
    "ticket number 1497421950, tracking 1Z999AA10123456784, error 0x30005001",
    "Will you help? May I ask? Mark this as done. Thanks team! Hi there, Hello Spotify",
    "The iPhone 15 Pro and the Galaxy S24 are in stock",
    "Amazon order 112-8687290-8687290 (Luhn-valid, but not grouped like a card)",
    "waiting at Logan airport, then San Antonio, then Love Field",
    "bag tag numbers 0016 964012, 0016 964077",
    "this is odd, it's fine",
    "app version number is 5.2.4.0 and Windows Mobile 10.0.15252.0 running on a phone",
    "my spotify i.d. number is 1264569863 and the email",
    "iPhone 6 8.4.20.535, please call",
    "bring you back to Jackson, MS! I called Paris office this morning",
    "order 4016529557 was lost, please call",
    "My phone arrived broken. Refund 2345678901 was rejected",
    "Called yesterday, tracking shows 9405511899 pending",
    "I've earned 8881234567 reward points",
    "Ordered a phone case; your reply mentioned 3125550198 as the order",
    "error code 800-AB12CD3, Firmware 800-BETA-RC2, file 800-IMAGE-RAW",
    "customer 0012345678905 here",
    "hotel is at 2345678",
    "flights from JACKSON MS and SAVANNAH GA",
])
def test_leaves(text):
    assert found(text) == []


def test_checksums():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB82 WEST 1234 5698 7654 33")


def test_redact_text_placeholders_and_counts():
    text, counts = redact_text("I'm Jane Roe, card 4111 1111 1111 1111, order #A-991, mail jane@x.org")
    assert text == "I'm [PERSON], card [CARD], order #A-991, mail [EMAIL]"
    assert counts == {"PERSON": 1, "CARD": 1, "EMAIL": 1}
    assert redact_text(None) == (None, {}) and redact_text(3.5)[0] == 3.5


def test_ids_become_shared_pseudonyms():
    names = Pseudonyms()
    tickets = pd.DataFrame({"ticket_id": ["t1", "t2"], "account_id": ["ann@x.org", "acct-2"],
                            "text": ["from ann@x.org", "fine"], "csat": [5.0, 1.0]})
    messages = pd.DataFrame({"ticket_id": ["t1"], "author_id": ["ann@x.org"], "text": ["hi"]})
    t, counts = redact_frame(tickets, pseudonyms=names)
    m, _ = redact_frame(messages, pseudonyms=names)
    assert list(t["account_id"]) == ["[EMAIL-1]", "acct-2"] and m["author_id"].item() == "[EMAIL-1]"
    assert list(t["text"]) == ["from [EMAIL]", "fine"] and t["csat"].dtype == float
    assert counts == {"EMAIL": 2}


def test_numbers_holding_personal_data_are_redacted():
    frame = pd.DataFrame({"card_number": [4111111111111111, 42], "phone": [4155550134.0, None],
                          "csat": [5, 1], "order_no": [112868729086, 7]})
    out, counts = redact_frame(frame)
    assert list(out["card_number"]) == ["[CARD]", "42"] and counts == {"CARD": 1}  # read as an integer
    assert out["csat"].dtype == frame["csat"].dtype and out["order_no"].dtype == frame["order_no"].dtype
    assert out["phone"].dtype == float  # 10 bare digits are no phone as text either: unchanged


def test_score_redact_refuses_raw_tables_beside_a_helpdesk_export(tmp_path, capsys):
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("account_id,name\n3300,Jane Roe\n", encoding="utf-8")  # test input
    out = tmp_path / "scored"
    assert main(["score", "--archive", str(ZENDESK), "--accounts", str(accounts), "--out", str(out), "--redact",
                 "--fast"]) == 2
    err = capsys.readouterr().err
    assert "--accounts" in err and "--redact" in err and "cxlens convert zendesk" in err
    assert not out.exists() and not (tmp_path / "scored.converted-input").exists()


def _everything(folder: Path) -> str:
    """Every output file's content as text (Parquet read back, so compressed strings are seen)."""
    parts = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            parts.append(pd.read_parquet(path).astype(str).to_csv() if path.suffix == ".parquet"
                         else path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


RAW = ["jane.roe@example.com", "Jane Roe", "4111 1111 1111 1111", "555-0134", "DE89 3704 0044 0532 0130 00",
       "123-45-6789", "203.0.113.77", "1600 Pennsylvania Ave", "Michael Brown", "billing-team@acme-corp.example",
       "@jroe_1984"]


@pytest.fixture()
def pii_archive(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    texts = [f"Hi, I'm {RAW[1]}, refund order #A-991 to card {RAW[2]}. Call me at +1 (415) {RAW[3]}. {RAW[10]}",
             f"Hello Jane, refunded. Email {RAW[9]} if needed.",
             f"My IBAN is {RAW[4]} and SSN {RAW[5]}, IP {RAW[6]}",
             f"Please ship to {RAW[7]} NW, Washington, DC 20500. Thanks, Michael",
             f"Done, {RAW[8]}, see you"]
    pd.DataFrame({"ticket_id": ["t1", "t2", "t3"], "created_at": ["2024-03-01T10:00:00Z", "2024-03-02T10:00:00Z",
                                                                  "2024-03-03T10:00:00Z"],
                  "channel": ["email", "chat", "email"], "account_id": [RAW[0], "acct-2", "+1 (415) 555-0134"],
                  "subject": [f"Refund for {RAW[1]}", "Card problem", "Address change"],
                  "text": [texts[0], texts[2], texts[3]], "status": ["solved", "open", "solved"]},
                 ).to_csv(folder / "tickets.csv", index=False)  # test input, not cxlens output
    pd.DataFrame({"ticket_id": ["t1", "t1", "t2", "t3", "t3"], "sent_at": [f"2024-03-0{d}T1{h}:00:00Z" for d, h in
                                                                          ((1, 0), (1, 1), (2, 0), (3, 0), (3, 1))],
                  "author_role": ["customer", "agent", "customer", "customer", "agent"],
                  "author_id": [RAW[0], "agent7", "acct-2", "+1 (415) 555-0134", "agent7"],
                  "message_id": ["m1", "m2", "m3", "m4", "m5"], "text": [texts[0], texts[1], texts[2], texts[3],
                                                                         texts[4]]},
                 ).to_csv(folder / "messages.csv", index=False)
    with (folder / "messages.csv").open("a") as f:
        f.write(f'm6,"broken, {RAW[0]}\n')  # a malformed record: quarantined, its raw text redacted too
    return folder


def test_score_redact_leaves_no_raw_value_in_any_output_or_report(pii_archive, tmp_path, capsys):
    out = tmp_path / "scored"
    assert main(["score", "--archive", str(pii_archive), "--out", str(out), "--redact", "--fast",
                 "--skip", "topic"]) == 0
    report = tmp_path / "report.html"  # the offline report of a redacted run: built from the redacted tables
    assert main(["report", str(out), "--out", str(report)]) == 0
    err = capsys.readouterr().err
    text = _everything(out) + err + report.read_text(encoding="utf-8")
    assert [raw for raw in RAW if raw in text] == []
    assert "[PERSON]" in report.read_text(encoding="utf-8")  # the texts are there, redacted
    assert not (tmp_path / "scored.redacted-input").exists()  # the redacted copies are removed after the run
    tickets = pd.read_parquet(out / "tickets").set_index("ticket_id")
    assert tickets.loc["t1", "account_id"] == "[EMAIL-1]" and "[CARD]" in tickets.loc["t1", "text"]
    assert "order #A-991" in tickets.loc["t1", "text"]  # order numbers stay
    redaction = json.loads((out / "manifest.json").read_text())["redaction"]
    assert redaction["names"] == "tagger"  # the default way person names were found
    redaction = redaction["tables"]
    assert redaction["messages"]["redacted"]["CARD"] == 1 and redaction["messages"]["quarantined"] == 1
    assert redaction["tickets"]["redacted"]["EMAIL"] == 1


def test_redact_command_and_convert_redact(pii_archive, tmp_path, capsys):
    out = tmp_path / "red"
    assert main(["redact", "--archive", str(pii_archive), "--out", str(out)]) == 0
    assert [raw for raw in RAW if raw in _everything(out)] == []
    report = json.loads((out / "redaction.json").read_text())["tables"]
    assert report["messages"] == {"read": 6, "written": 5, "quarantined": 1,
                                  "redacted": report["messages"]["redacted"]}
    assert (out / "quarantine" / "messages.csv").exists()
    assert main(["convert", "zendesk", "--input", str(ZENDESK), "--out", str(tmp_path / "zd"), "--redact"]) == 0
    assert "cxlens: redacted: " in capsys.readouterr().err
    converted = _everything(tmp_path / "zd")
    assert "Sorry [PERSON]!" in converted and "Sorry Ann" not in converted and "Thanks,\nAnn" not in converted


def test_score_redact_refuses_an_output_inside_its_input(pii_archive, capsys):
    before = sorted(p.name for p in pii_archive.iterdir())
    assert main(["score", "--archive", str(pii_archive), "--out", str(pii_archive / "scored"), "--redact",
                 "--fast"]) == 2
    assert "is inside the input folder" in capsys.readouterr().err
    assert sorted(p.name for p in pii_archive.iterdir()) == before


def test_report_redact_on_an_unredacted_run_holds_no_raw_value(pii_archive, tmp_path, capsys):
    out = tmp_path / "scored"
    assert main(["score", "--archive", str(pii_archive), "--out", str(out), "--fast", "--skip", "topic"]) == 0
    plain, redacted = tmp_path / "plain.html", tmp_path / "redacted.html"
    assert main(["report", str(out), "--out", str(plain)]) == 0
    assert main(["report", str(out), "--out", str(redacted), "--redact"]) == 0
    err = capsys.readouterr().err
    shown = [raw for raw in RAW if raw in plain.read_text(encoding="utf-8")]
    assert shown  # without --redact the report shows personal data: the check below can fail
    assert [raw for raw in RAW if raw in redacted.read_text(encoding="utf-8") + err] == []


def test_dashboard_redact_reaches_the_app_process(pii_archive):
    from cxlens.pipelines.dashboard._app import ENV_REDACT, streamlit_env
    from cxlens.pipelines.score import read_scored

    assert streamlit_env(pii_archive, redact=True)[ENV_REDACT] == "1"
    assert streamlit_env(pii_archive)[ENV_REDACT] == ""
    archive = read_scored(pii_archive, redact=True)  # what the app reads when the variable is set
    text = archive.tickets.astype(str).to_csv() + archive.messages.astype(str).to_csv()
    assert [raw for raw in RAW if raw in text] == [] and "[EMAIL-1]" in text


def test_redacted_kpi_keys_stay_distinct_and_match_the_tables_pseudonyms():
    import dataclasses

    from cxlens.pipelines.score import ScoredArchive
    from cxlens.pipelines.score._output import redacted_archive

    tickets = pd.DataFrame({"ticket_id": ["t1", "t2"], "account_id": ["a@b.com", "c@d.com"],
                            "team": ["John Smith", "Jet Blue"], "text": ["hi", "hello"]})
    archive = ScoredArchive(path=Path("."), tickets=tickets,
                            kpis={"kpis": {"top_accounts_by_tickets": {"a@b.com": 3, "c@d.com": 2}}})
    out = redacted_archive(archive)
    top = out.kpis["kpis"]["top_accounts_by_tickets"]
    assert sorted(top.values()) == [2, 3] and not {"a@b.com", "c@d.com"} & set(top)
    assert set(top) == set(out.tickets["account_id"])  # the same pseudonyms as the rows
    assert out.tickets["team"].nunique() == 2  # two teams named like people stay two groups
    assert dataclasses.replace(out, kpis=None).manifest["redacted"]["EMAIL"] >= 2


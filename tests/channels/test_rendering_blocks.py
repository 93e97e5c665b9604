"""Quoted table rows as structured blocks for the web widget (Slack and Teams draw them their own way)."""

from __future__ import annotations

from channels.rendering import TableBlock, TextBlock, from_rasa, structured


def test_rows_with_the_same_headings_and_citation_become_one_table():
    text = ("Years: 3 to 5; Days: 27 [1]\n"
            'From Time off policy, Allowance: "Your allowance grows:" [1]\n'
            "Years: less than 3; Days: 25 [1]\nYears: 3 to 5; Days: 27 [1]\nPlan: A; Days: 2 [2]")
    blocks = structured(text)
    assert blocks == [
        TableBlock(columns=["Years", "Days"], rows=[["3 to 5", "27"]], citation="[1]"),
        TextBlock(text='From Time off policy, Allowance: "Your allowance grows:" [1]'),
        TableBlock(columns=["Years", "Days"], rows=[["less than 3", "25"], ["3 to 5", "27"]], citation="[1]"),
        TableBlock(columns=["Plan", "Days"], rows=[["A", "2"]], citation="[2]"),
    ]


def test_plain_text_has_no_blocks_and_the_text_stays_whole():
    assert structured("The hotel limit is 180 EUR per night; 250 EUR in Paris. [1]") == []
    text = "Years: 3 to 5; Days: 27 [1]"
    [message] = from_rasa([{"text": text}])
    assert message.text == text and message.blocks[0].type == "table"

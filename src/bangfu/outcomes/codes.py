"""The destination codes in common use by Chinese graduate-employment systems (DOMAIN.md §7), list version 2024.

Installed by migration 0002; `install_national_codes` puts back any that are missing (a database flushed by a
test that commits, or an old deployment).
"""

import datetime as dt

E, S, N = "employed", "further_study", "not_placed"
CODES = [
    # code, Chinese, English, group, flexible, not seeking, evidence that verifies it
    ("10", "签就业协议形式就业", "Signed employment agreement", E, False, False, ["employment_agreement"]),
    ("11", "签劳动合同形式就业", "Labour contract", E, False, False, ["labour_contract"]),
    (
        "12",
        "其他录用形式就业",
        "Other proof of hiring",
        E,
        True,
        False,
        ["hiring_proof", "labour_contract", "employment_agreement"],
    ),
    (
        "27",
        "科研助理、管理助理",
        "Research or administrative assistant",
        E,
        False,
        False,
        ["employment_agreement", "labour_contract", "hiring_proof"],
    ),
    ("46", "应征义务兵", "Conscript soldier", E, False, False, ["enlistment_notice"]),
    ("50", "国家基层项目", "National grassroots project", E, False, False, ["project_letter"]),
    ("51", "地方基层项目", "Local grassroots project", E, False, False, ["project_letter"]),
    ("75", "自主创业", "Self-employed, started a business", E, False, False, ["business_licence"]),
    ("76", "自由职业", "Freelance", E, True, False, ["freelance_proof", "hiring_proof"]),
    ("77", "其他灵活就业", "Other flexible employment", E, True, False, ["freelance_proof", "hiring_proof", "other"]),
    ("80", "升学", "Further study in China", S, False, False, ["admission_letter"]),
    ("85", "出国、出境", "Study or work abroad", S, False, False, ["study_abroad_proof", "admission_letter"]),
    ("70", "待就业", "Seeking work", N, False, False, []),
    ("71", "不就业拟升学", "Not working, preparing for further study", N, False, True, []),
    ("72", "其他暂不就业", "Other, not seeking work for now", N, False, True, []),
]

LIST_VERSION = "2024"
VALID_FROM = dt.date(2000, 1, 1)


def install_national_codes(model: type | None = None) -> int:
    """Add the national codes that are missing; returns how many were added. `model`: a migration's historical
    model, or the current one."""
    if model is None:
        from bangfu.outcomes.models import DestinationCode as model
    have = set(model.objects.filter(school__isnull=True, valid_from=VALID_FROM).values_list("code", flat=True))
    rows = [
        model(
            code=code,
            label=zh,
            label_en=en,
            group=group,
            flexible=flexible,
            not_seeking=not_seeking,
            evidence_kinds=evidence,
            list_version=LIST_VERSION,
            valid_from=VALID_FROM,
        )
        for code, zh, en, group, flexible, not_seeking, evidence in CODES
        if code not in have
    ]
    model.objects.bulk_create(rows)
    return len(rows)

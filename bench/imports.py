"""Time the spreadsheet import on a generated student ledger, and django-import-export on the same file.

    .venv/bin/python bench/imports.py                  # 100,000 rows, 13 columns
    .venv/bin/python bench/imports.py --rows 300       # what tests/test_bench_smoke.py runs

The script builds one school in a fresh SQLite database (departments, majors, classes, one helper per 40
students, the employment office who imports), writes a messy .xlsx ledger (a title and a note above the
header, full-width digits, spaced names, lower-case x in ID numbers, cohorts written three ways, category
names in local wording with mixed separators, phones with spaces and dashes or stored as numbers, classes
with and without 班, blank lines) and copies the database twice. Then, each in its own process so that peak
memory is its own:

- Bangfu's pipeline (`imports.services.create_job` + `commit`, as the office, all or nothing): read, check,
  write students, ledger entries, categories and helper assignments, and a history row for each. The
  progress rows of the new ledger students are rebuilt after the commit and timed apart. Then the same file
  again, which must change nothing.
- django-import-export 4 in bulk mode on the same file: a `ModelResource` for `Student` with `use_bulk=True`,
  `skip_diff=True`, upsert by student number, the same normalisers and ID-number checks (hashed, encrypted,
  masked) in its hooks, the file read by tablib (openpyxl). It writes students only: no ledger, no helpers, no
  history, so the comparison flatters it.

Figures are wall-clock seconds and rows per second from reading the file to the commit, and the peak resident
memory of each process (`resource.getrusage`). Nothing here is a test; the figures are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from environment import REPO, migrate, setup_django

DEFAULT_VAR_DIR = REPO / "var" / "bench-imports"
SEED = 20240901
TODAY = "2024-03-15"
CLASS_SIZE = 45
PER_HELPER = 40
HEADERS = [
    "学号",
    "姓名",
    "性别",
    "身份证号",
    "院系",
    "专业",
    "班级",
    "入学年份",
    "困难类别",
    "家庭情况",
    "生源地",
    "联系电话",
    "帮扶人",
]
DEPARTMENTS = [
    ("INFO", "信息工程学院", ["软件技术", "计算机网络技术", "大数据技术", "云计算技术应用", "人工智能技术应用"]),
    ("MECH", "机电工程学院", ["机电一体化技术", "工业机器人技术", "电气自动化技术", "数控技术", "智能制造装备技术"]),
    ("ECON", "经济管理学院", ["大数据与会计", "电子商务", "市场营销", "现代物流管理", "金融服务与管理"]),
    ("CIVIL", "建筑工程学院", ["建筑工程技术", "工程造价", "建设工程管理", "建筑装饰工程技术", "道路与桥梁工程技术"]),
    ("ART", "艺术设计学院", ["环境艺术设计", "数字媒体艺术设计", "视觉传达设计", "服装与服饰设计", "动漫制作技术"]),
    ("HEALTH", "健康学院", ["护理", "药学", "康复治疗技术", "医学检验技术", "老年保健与管理"]),
    ("AUTO", "汽车工程学院", ["汽车检测与维修技术", "新能源汽车技术", "汽车技术服务与营销", "汽车制造与试验技术",
                              "智能网联汽车技术"]),
    ("EDU", "教育学院", ["学前教育", "小学教育", "早期教育", "音乐教育", "体育教育"]),
]  # fmt: skip
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"  # noqa: E501
GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红建国志文辉鹏宇浩然博文子涵欣怡雨婷佳豪俊杰梓萱一诺思远晨阳嘉怡雅琪"  # noqa: E501
CATEGORY_WORDS = [
    ["脱贫家庭"],
    ["低保家庭"],
    ["低保户"],
    ["建档立卡"],
    ["孤儿"],
    ["残疾人子女"],
    ["零就业家庭"],
    ["农村生源"],
    ["国家助学贷款"],
    ["学校认定家庭经济困难"],
    ["低保", "残疾人子女"],
    ["脱贫家庭", "国家助学贷款"],
    ["农村", "学校认定"],
]
SEPARATORS = ["、", ",", "，", "；", " "]
FAMILY = [
    "父母务农，家中四口人，收入微薄",
    "单亲家庭，母亲打零工",
    "父亲因病丧失劳动能力，长期服药",
    "由祖父母抚养，祖父母年迈",
    "家中有两个弟妹在读书",
    "母亲残疾，父亲在外务工",
]
REGIONS = [
    ("130182", "河北省石家庄市辛集市"),
    ("130523", "河北省邢台市内丘县"),
    ("130425", "河北省邯郸市大名县"),
    ("131125", "河北省衡水市安平县"),
    ("140221", "山西省大同市阳高县"),
    ("410523", "河南省安阳市汤阴县"),
    ("370181", "山东省济南市章丘区"),
    ("150121", "内蒙古自治区呼和浩特市土默特左旗"),
]
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


# --- the data set ---------------------------------------------------------------------------------------------


def _check_digit(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]


def _build_school(rows: int, rng: random.Random) -> dict[str, Any]:
    """The school's tree and staff, through the organisation services (not timed)."""
    from django.db import transaction

    from bangfu.organisation.models import Role, RoleGrant, UnitKind, User
    from bangfu.organisation.services import create_staff, create_unit

    cohorts = [2020, 2021, 2022, 2023]
    per_group = max(1, -(-rows // (CLASS_SIZE * len(DEPARTMENTS) * 5 * len(cohorts))))
    classes: list[tuple[str, str, str]] = []  # department, major, class names
    helpers_by_dept: dict[str, list[str]] = {}
    taken: set[str] = set()
    with transaction.atomic():
        school = create_unit(kind=UnitKind.SCHOOL, code="BENCH", name="河北科技工程职业技术大学", name_en="BENCH")
        create_staff(username="office", full_name="李主任", unit=school, roles=[(Role.EMPLOYMENT_OFFICE, school)])
        helper_count = max(len(DEPARTMENTS), rows // PER_HELPER)
        grants = []
        for d, (code, dept_name, majors) in enumerate(DEPARTMENTS):
            dept = create_unit(kind=UnitKind.DEPARTMENT, code=code, name=dept_name, parent=school)
            for m, major_name in enumerate(majors):
                major = create_unit(kind=UnitKind.MAJOR, code=f"{code}{m + 1}", name=major_name, parent=dept)
                for cohort in cohorts:
                    for c in range(per_group):
                        class_name = f"{major_name[:2]}{cohort % 100:02d}{c + 1:02d}班"
                        create_unit(
                            kind=UnitKind.CLASS, code=f"{major.code}{cohort}{c + 1:02d}", name=class_name, parent=major
                        )
                        classes.append((dept_name, major_name, class_name))
            names = []
            for i in range(helper_count // len(DEPARTMENTS)):
                while True:
                    name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
                    if name not in taken:
                        break
                taken.add(name)
                user = User(username=f"t{d}{i:05d}", full_name=name, unit=dept, staff_number=f"T{d}{i:05d}")
                user.set_unusable_password()
                names.append((user, name))
            User.objects.bulk_create([u for u, _n in names])
            grants += [RoleGrant(user=u, role=Role.TEACHER, unit=dept) for u, _n in names]
            helpers_by_dept[dept_name] = [n for _u, n in names]
        RoleGrant.objects.bulk_create(grants)
    return {"classes": classes, "helpers": helpers_by_dept}


def _write_ledger(path: Path, rows: int, school: dict[str, Any], rng: random.Random) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    page = book.add_worksheet("困难学生台账")
    page.merge_range(0, 0, 0, len(HEADERS) - 1, "河北科技工程职业技术大学 2023—2024学年家庭经济困难学生台账")
    page.write_string(1, 0, "填表说明：困难类别可填多项，用顿号分隔；身份证号请设置为文本格式。")
    for c, header in enumerate(HEADERS):
        page.write_string(2, c, header)
    classes = school["classes"]
    seen_ids: set[str] = set()
    out = 3
    for i in range(rows):
        if i and i % 5000 == 0:
            out += 1  # a blank line between blocks, as when sheets are pasted together
        dept, major, klass = classes[i * len(classes) // rows]
        cohort = 2000 + int(klass[len(major[:2]) : len(major[:2]) + 2])
        male = rng.random() < 0.5
        number = f"{cohort}{i + 1:06d}"
        if rng.random() < 0.05:
            number = number.translate(FULLWIDTH)
        elif rng.random() < 0.03:
            number += " "
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.8 else "")
        if rng.random() < 0.1:
            name = name[0] + rng.choice([" ", "\u3000"]) + name[1:]
        region, home = rng.choice(REGIONS)
        while True:
            born = f"{cohort - 18 - rng.randint(0, 2)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            seq = rng.randint(0, 499) * 2 + (1 if male else 0)
            first17 = f"{region}{born}{seq:03d}"
            id_number = first17 + _check_digit(first17)
            if id_number not in seen_ids:
                seen_ids.add(id_number)
                break
        if id_number.endswith("X") and rng.random() < 0.5:
            id_number = id_number[:-1] + "x"
        elif rng.random() < 0.05:
            id_number = f"{id_number[:6]} {id_number[6:14]} {id_number[14:]}"
        categories = rng.choice(SEPARATORS).join(rng.choice(CATEGORY_WORDS))
        phone_digits = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
        phone_style = rng.random()
        cohort_style = rng.random()
        values: list[Any] = [
            number,
            name,
            rng.choice(["男", "男", "男性", "M"]) if male else rng.choice(["女", "女", "女性", "F"]),
            id_number,
            dept + (" " if rng.random() < 0.1 else ""),
            major,
            klass if rng.random() < 0.8 else klass[:-1],
            cohort if cohort_style < 0.4 else (f"{cohort}级" if cohort_style < 0.8 else f"{cohort}年"),
            categories,
            rng.choice(FAMILY),
            home,
            int(phone_digits)
            if phone_style < 0.3
            else (f"{phone_digits[:3]} {phone_digits[3:7]} {phone_digits[7:]}" if phone_style < 0.6 else phone_digits),
            rng.choice(school["helpers"][dept]) + (" " if rng.random() < 0.05 else ""),
        ]
        for c, value in enumerate(values):
            if isinstance(value, int):
                page.write_number(out, c, value)
            else:
                page.write_string(out, c, value)
        out += 1
    book.close()


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    var_dir: Path = args.var_dir
    if var_dir.exists():
        shutil.rmtree(var_dir)
    base = var_dir / "base"
    setup_django(base)
    from django.db import connections

    started = time.perf_counter()
    migrate()
    rng = random.Random(SEED)
    school = _build_school(args.rows, rng)
    connections.close_all()
    built = time.perf_counter() - started
    started = time.perf_counter()
    path = var_dir / "ledger.xlsx"
    _write_ledger(path, args.rows, school, rng)
    written = time.perf_counter() - started
    for side in ("bangfu", "die"):
        shutil.copytree(base, var_dir / side)
    return {
        "rows": args.rows,
        "classes": len(school["classes"]),
        "helpers": sum(len(v) for v in school["helpers"].values()),
        "file_bytes": path.stat().st_size,
        "setup_seconds": round(built, 1),
        "file_seconds": round(written, 1),
    }


# --- one side, in its own process ------------------------------------------------------------------------------


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _counts() -> dict[str, int]:
    from bangfu.assistance.models import HelperAssignment, StudentProgress
    from bangfu.students.models import LedgerCategory, LedgerEntry, Student

    return {
        "students": Student.objects.count(),
        "student_history": Student.history.count(),  # type: ignore[attr-defined]
        "ledger_entries": LedgerEntry.objects.count(),
        "ledger_history": LedgerEntry.history.count(),  # type: ignore[attr-defined]
        "categories": LedgerCategory.objects.count(),
        "helpers": HelperAssignment.objects.count(),
        "progress_rows": StudentProgress.objects.count(),
    }


def run_bangfu(var_dir: Path) -> dict[str, Any]:
    import datetime as dt

    from bangfu.imports import services
    from bangfu.organisation.models import OrgUnit, User

    today = dt.date.fromisoformat(TODAY)
    office = User.objects.get(username="office")
    school = OrgUnit.objects.get(code="BENCH", parent=None)
    path = var_dir / "ledger.xlsx"
    progress_seconds = progress_cpu = 0.0
    rebuild = services._rebuild_progress

    def timed_rebuild(run: Any) -> None:
        nonlocal progress_seconds, progress_cpu
        started, cpu = time.perf_counter(), time.process_time()
        rebuild(run)
        progress_seconds += time.perf_counter() - started
        progress_cpu += time.process_time() - cpu

    services._rebuild_progress = timed_rebuild  # type: ignore[assignment]

    def once() -> tuple[Any, float, float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        with path.open("rb") as stream:
            job = services.create_job(actor=office, target="students", school=school, upload=stream, name=path.name)
        checked = time.perf_counter() - started
        job = services.commit(actor=office, job=job, today=today)
        return job, checked, time.perf_counter() - started, time.process_time() - cpu

    job, checked, total, cpu = once()
    first = {
        "status": job.status,
        "message": job.message,
        "problems": job.problems[:5],
        "upload_seconds": checked,
        "seconds": total - progress_seconds,
        "cpu_seconds": cpu - progress_cpu,
        "progress_seconds": progress_seconds,
        "counts": _counts(),
    }
    progress_seconds = progress_cpu = 0.0
    job, checked, total, cpu = once()
    again = {
        "status": job.status,
        "message": job.message,
        "seconds": total - progress_seconds,
        "cpu_seconds": cpu - progress_cpu,
        "counts": _counts(),
    }
    return {"first": first, "again": again, "peak_mib": _peak_mib()}


def run_die(var_dir: Path) -> dict[str, Any]:
    """django-import-export in bulk mode, with the same cleaning and ID-number handling as the pipeline."""
    import tablib
    from import_export import fields, resources, widgets

    from bangfu.imports import normalise as norm
    from bangfu.imports.orgtree import Tree
    from bangfu.organisation.models import OrgUnit
    from bangfu.students import idnumbers
    from bangfu.students.models import Student

    school = OrgUnit.objects.get(code="BENCH", parent=None)
    tree = Tree(school)

    class Clean(widgets.CharWidget):
        def __init__(self, clean: Any) -> None:
            super().__init__()
            self.clean_value = clean

        def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
            return self.clean_value(value)

    class StudentResource(resources.ModelResource):
        student_number = fields.Field("student_number", "学号", widget=Clean(norm.code))
        name = fields.Field("name", "姓名", widget=Clean(norm.name))
        gender = fields.Field("gender", "性别", widget=Clean(norm.gender))
        cohort = fields.Field("cohort", "入学年份", widget=Clean(norm.year))
        phone = fields.Field("phone", "联系电话", widget=Clean(norm.phone))

        class Meta:
            model = Student
            fields = ("student_number", "name", "gender", "cohort", "phone")
            import_id_fields = ("student_number",)
            use_bulk = True
            batch_size = 1000
            skip_diff = True

        def before_import_row(self, row: Any, **kwargs: Any) -> None:
            place, errors = tree.place(department=row["院系"], major=row["专业"], klass=row["班级"], create=False)
            if errors:
                raise ValueError(errors)
            row["_place"] = place

        def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
            place = row["_place"]
            major = tree.units[place.parent_id]
            instance.school_id = school.pk
            instance.class_unit_id, instance.major_id, instance.department_id = place.pk, major.pk, major.parent_id
            number = idnumbers.validate(norm.id_number(row["身份证号"]))
            instance.id_number_cipher = idnumbers.encrypt(number)
            instance.id_number_hash = idnumbers.keyed_hash(number)
            instance.id_number_masked = idnumbers.mask(number)
            instance.birth_date = idnumbers.birth_date(number)
            province, city, county = norm.region(row["生源地"])
            instance.home_province, instance.home_city, instance.home_county = province, city, county
            import datetime as dt

            instance.enrolled_on = dt.date(instance.cohort, 9, 1)
            instance.expected_graduation = dt.date(instance.cohort + 3, 6, 30)

    started, cpu = time.perf_counter(), time.process_time()
    data = tablib.Dataset().load((var_dir / "ledger.xlsx").read_bytes(), format="xlsx", skip_lines=2)
    blank = [i for i, row in enumerate(data) if not any(str(v or "").strip() for v in row)]
    for i in reversed(blank):
        del data[i]
    read = time.perf_counter() - started
    result = StudentResource().import_data(data, dry_run=False, use_transactions=True)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    errors = [str(e.error) for row in result.row_errors()[:3] for e in row[1]]
    return {
        "read_seconds": read,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows": len(data),
        "errors": len(result.row_errors()) + len(result.base_errors),
        "first_errors": errors,
        "counts": _counts(),
        "peak_mib": _peak_mib(),
    }


def _side(args: argparse.Namespace) -> None:
    var_dir = args.var_dir / args.side
    shutil.copy(args.var_dir / "ledger.xlsx", var_dir / "ledger.xlsx")
    setup_django(var_dir)
    result = run_bangfu(var_dir) if args.side == "bangfu" else run_die(var_dir)
    print("RESULT " + json.dumps(result, default=str, ensure_ascii=False))


def _spawn(args: argparse.Namespace, side: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    done = subprocess.run(
        [sys.executable, __file__, "--side", side, "--var-dir", str(args.var_dir), "--rows", str(args.rows)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the {side} run failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(lines[-1][len("RESULT ") :])


# --- the report ------------------------------------------------------------------------------------------------


def report(meta: dict[str, Any], ours: dict[str, Any], die: dict[str, Any] | None) -> dict[str, Any]:
    rows = meta["rows"]
    first, again = ours["first"], ours["again"]
    rate = rows / first["seconds"]
    print(f"Import benchmark · {time.strftime('%Y-%m-%d %H:%M %Z')} · bench/imports.py --rows {rows:,}")
    print(
        f"file: {rows:,} rows × {len(HEADERS)} columns, {meta['file_bytes'] / 2**20:.1f} MiB .xlsx; "
        f"school: {meta['classes']:,} classes, {meta['helpers']:,} helpers "
        f"(built in {meta['setup_seconds']} s, file written in {meta['file_seconds']} s)"
    )
    print(f"machine: {os.cpu_count()} cores, load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    c = first["counts"]
    print(f"Bangfu pipeline (all or nothing, as the employment office): {first['status']} — {first['message']}")
    print(f"  upload checks + header detection      {first['upload_seconds']:8.2f} s")
    print(
        f"  read, check, write, history (total)    {first['seconds']:8.2f} s   {rate:10,.0f} rows/s   "
        f"(CPU {first['cpu_seconds']:.2f} s: {rows / first['cpu_seconds']:,.0f} rows per CPU second)"
    )
    print(
        f"  wrote {c['students']:,} students, {c['ledger_entries']:,} ledger entries, {c['categories']:,} categories, "
        f"{c['helpers']:,} helper assignments; history: {c['student_history']:,} student rows, "
        f"{c['ledger_history']:,} ledger rows"
    )
    print(
        f"  then progress rows for {c['progress_rows']:,} ledger students (rebuild_progress, after the commit) "
        f"{first['progress_seconds']:8.2f} s"
    )
    a = again["counts"]
    unchanged = a == c
    print(
        f"  the same file again: {again['status']} — {again['message']} {again['seconds']:.2f} s "
        f"({rows / again['seconds']:,.0f} rows/s); database {'unchanged' if unchanged else 'CHANGED'}"
    )
    print(f"  peak memory {ours['peak_mib']:,.0f} MiB")
    figures: dict[str, Any] = {
        "rows": rows,
        "bangfu_seconds": first["seconds"],
        "bangfu_rows_per_second": rate,
        "bangfu_cpu_seconds": first["cpu_seconds"],
        "progress_seconds": first["progress_seconds"],
        "reimport_seconds": again["seconds"],
        "reimport_unchanged": unchanged,
        "bangfu_peak_mib": ours["peak_mib"],
        "counts": c,
    }
    if die is not None:
        die_rate = die["rows"] / die["seconds"]
        print()
        print(f"django-import-export (bulk mode, students only): {die['counts']['students']:,} students")
        print(f"  read with tablib/openpyxl              {die['read_seconds']:8.2f} s")
        print(
            f"  read and import (total)                {die['seconds']:8.2f} s   {die_rate:10,.0f} rows/s   "
            f"(CPU {die['cpu_seconds']:.2f} s)"
        )
        print(f"  errors: {die['errors']} {die['first_errors'][:1]}")
        print(f"  peak memory {die['peak_mib']:,.0f} MiB")
        print()
        cpu_ratio = die["cpu_seconds"] / first["cpu_seconds"]
        print(
            f"ratio: Bangfu {rate / die_rate:.1f}× the rows per second of django-import-export "
            f"(by CPU time {cpu_ratio:.1f}×)"
        )
        figures.update(die_seconds=die["seconds"], die_rows_per_second=die_rate, ratio=rate / die_rate)
        figures.update(die_cpu_seconds=die["cpu_seconds"], cpu_ratio=cpu_ratio)
        figures["die_peak_mib"] = die["peak_mib"]
        figures["die_students"] = die["counts"]["students"]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--var-dir", type=Path, default=DEFAULT_VAR_DIR)
    parser.add_argument("--skip-die", action="store_true", help="Do not run django-import-export.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    parser.add_argument("--side", choices=["bangfu", "die"], default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        _side(args)
        return 0
    meta = prepare(args)
    ours = _spawn(args, "bangfu")
    die = None if args.skip_die else _spawn(args, "die")
    figures = report(meta, ours, die)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

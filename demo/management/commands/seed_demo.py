"""``manage.py seed_demo``: build (or bring up to date) the demo city and print its logins."""

from __future__ import annotations

import os
import time
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ... import city as demo
from ...buildings import seed_building_cases, seed_buildings
from ...common_proposals import seed_common_proposal
from ...current import seed_current
from ...deliberation import seed_deliberation
from ...expenses import seed_expenses
from ...history import seed_history
from ...members import seed_members
from ...mine import seed_mine
from ...supervision import seed_supervision

STEP_LABELS: tuple[tuple[str, str | Promise], ...] = (
    ("area_city", gettext_lazy("市")),
    ("area_district", gettext_lazy("区")),
    ("area_street", gettext_lazy("街道")),
    ("area_community", gettext_lazy("社区")),
    ("area_alley", gettext_lazy("街巷/网格")),
    ("alley_profile", gettext_lazy("街巷档案")),
    ("category_class", gettext_lazy("事项分类")),
    ("category_type", gettext_lazy("事项类型")),
    ("department", gettext_lazy("部门/单位")),
    ("duty", gettext_lazy("权责清单条目")),
    ("deadline_policy", gettext_lazy("时限策略")),
    ("order_settings", gettext_lazy("派单时限设置")),
    ("user", gettext_lazy("账号")),
    ("staff_profile", gettext_lazy("人员档案")),
    ("role_assignment", gettext_lazy("角色任命")),
)


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


class Command(BaseCommand):
    help = _("生成（或补齐）演示城市：区域、街巷档案、事项分类、部门、时限策略和人员账号。可重复运行。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            help=_("新建演示账号的密码（默认取环境变量 DEMO_PASSWORD，否则为 demo12345）。"),
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help=_("把已存在的演示账号的密码也重置为演示密码。"),
        )
        parser.add_argument(
            "--skip-history",
            action="store_true",
            help=_("不生成案件和办理历史。"),
        )
        parser.add_argument(
            "--part",
            choices=["all", "now", "history"],
            default="all",
            help=_(
                "只生成一部分：now 为城市、人员和十几件当前案件（几秒钟，网站即可使用），"
                "history 为一年的办理历史（需先有城市）；默认 all 为全部。"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        default_password = options["password"] is None and not os.environ.get("DEMO_PASSWORD")
        password = options["password"] or os.environ.get("DEMO_PASSWORD") or demo.DEFAULT_PASSWORD
        started = time.monotonic()
        part = options["part"]
        if part == "history":
            # What dev.py run leaves for after the site answers: no tables, no logins to print.
            seed_history(stdout=self.stdout)
            seed_building_cases()
            elapsed = time.monotonic() - started
            self.stdout.write(self.style.SUCCESS(_("办理历史已就绪，用时 %(s).1f 秒。") % {"s": elapsed}))
            return
        report = demo.seed_city(password=password, reset_passwords=options["reset_passwords"])
        # One community with buildings (楼栋) and building heads; the ``building`` login among the named ones.
        report.logins.extend(seed_buildings(password=password, reset_passwords=options["reset_passwords"]))

        if not options["skip_history"]:
            seed_current(stdout=self.stdout)
            seed_expenses()
            seed_supervision()
            seed_mine()
            seed_members(password=password)
            seed_deliberation()
            seed_common_proposal(stdout=self.stdout)
            if part == "all":
                seed_history(stdout=self.stdout)
                seed_building_cases()  # with the history: the fast part's cases are the fixed current set

        counts = demo.demo_counts()
        rows = [
            [str(label), str(counts[key]), str(report.step(key).created), str(report.step(key).updated)]
            for key, label in STEP_LABELS
        ]
        self.stdout.write(_table([_("项目"), _("总数"), _("本次新建"), _("本次更新")], rows))
        self.stdout.write("")

        shown_password = password if default_password else _("（--password / DEMO_PASSWORD 所设）")
        login_rows = [
            [
                login.username,
                shown_password if login.password_works else _("（已另设密码）"),
                login.role_label,
                login.place,
            ]
            for login in report.logins
        ]
        self.stdout.write(_table([_("账号"), _("密码"), _("角色"), _("范围")], login_rows))
        self.stdout.write(
            _("党员双报到：dangyuan 为在职党员，danwei 为其单位党组织联系人（新建时密码同上）。")
        )
        if any(not login.password_works for login in report.logins):
            self.stdout.write(_("已另设密码的账号保留原密码；如需改回演示密码，请加 --reset-passwords。"))
        elapsed = time.monotonic() - started
        if report.changed:
            message = _("演示数据已就绪，用时 %(s).1f 秒。") % {"s": elapsed}
        else:
            message = _("演示数据已是最新，没有改动，用时 %(s).1f 秒。") % {"s": elapsed}
        self.stdout.write(self.style.SUCCESS(message))

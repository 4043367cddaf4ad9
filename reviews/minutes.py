"""Review minutes (SPEC §6): the data frozen at close, and its DOCX and PDF exports.

The snapshot is language-neutral (codes and plain amounts); the exports put labels on it in
the reader's language, so one closed meeting reads in zh-hans and in English alike.
"""

from __future__ import annotations

import io
import logging
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reviews.meeting_models import AgendaKind, ItemDecision, ReviewMeeting
from reviews.models import indicator_label
from targets.formatting import format_money, format_pct, is_chinese, status_label

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"
FORMATS = {"docx": DOCX_TYPE, "pdf": PDF_TYPE}
# fpdf2 subsets the font through fontTools, which reports every table it prunes at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def _text(value) -> str | None:
    return None if value is None else str(value)


def minutes_data(meeting: ReviewMeeting, *, today: date, live: bool = False) -> dict:
    """What the minutes say: the frozen snapshot of a closed meeting, else the agenda now."""
    if meeting.minutes and not live:
        return meeting.minutes
    from reviews.meeting_selectors import agenda_rows

    items = []
    for row in agenda_rows(meeting=meeting, today=today):
        item, fig = row.item, row.figures
        proposal, case = item.proposal, item.case
        items.append(
            {
                "number": row.number,
                "kind": item.kind,
                "target": item.target.owner_name,
                "period": item.target.period,
                "base": _text(item.target.base),
                "stretch": _text(item.target.stretch),
                "completion": _text(fig.completion if fig else None),
                "pace": _text(fig.pace if fig else None),
                "status": fig.status if fig else None,
                "proposal": proposal
                and {
                    "author": str(proposal.author),
                    "base": _text(proposal.proposed_base),
                    "stretch": _text(proposal.proposed_stretch),
                    "reason": proposal.reason,
                    "explanation": proposal.explanation,
                },
                "case": case and {"indicator": case.indicator, "opened_week": case.opened_week},
                "dispute": item.dispute
                and {
                    "author": str(item.dispute.author),
                    "kind": item.dispute.kind,
                    "account": item.dispute.account,
                    "amount": _text(item.dispute.amount),
                    "comment": item.dispute.comment,
                },
                "carried_from": item.carried_from.meeting.month if item.carried_from else None,
                "scores": {k: _text(v) for k, v in row.scores.items()},
                "member_scores": [
                    {
                        "user": str(s.user),
                        "market": s.market,
                        "customer": s.customer,
                        "capacity": s.capacity,
                        "notes": s.notes,
                    }
                    for s in row.member_scores
                ],
                "decision": item.decision,
                "new_base": _text(item.new_base),
                "new_stretch": _text(item.new_stretch),
                "notes": item.notes,
                "decided_by": str(item.decided_by) if item.decided_by else None,
            }
        )
    return {
        "unit": meeting.unit.name,
        "month": meeting.month,
        "chair": str(meeting.chair),
        "members": [str(m) for m in meeting.members.order_by("username")],
        "state": meeting.state,
        "closed_at": meeting.closed_at.isoformat() if meeting.closed_at else None,
        "items": items,
    }


# Exports ---------------------------------------------------------------------------


def _money(value: str | None, language: str) -> str:
    return format_money(Decimal(value) if value is not None else None, language)


def _lines(data: dict, language: str) -> tuple[str, list[str], list[dict]]:
    """Title, header lines and per-item blocks in the active language."""
    title = _("Target-health review minutes")
    closed = data.get("closed_at")
    if closed:
        when = timezone.localtime(datetime.fromisoformat(closed)).strftime("%Y-%m-%d %H:%M")
        state = _("Closed %(when)s") % {"when": when}
    else:
        state = _("Draft: the meeting is still open")
    header = [
        _("Unit: %(unit)s") % {"unit": data["unit"]},
        _("Month: %(month)s") % {"month": data["month"]},
        _("Chair: %(chair)s") % {"chair": data["chair"]},
        _("Members: %(members)s")
        % {"members": ("、" if is_chinese(language) else ", ").join(data["members"]) or "—"},
        state,
    ]
    blocks = []
    for item in data["items"]:
        kind = AgendaKind(item["kind"]).label
        facts = [
            _("Base %(base)s · Stretch %(stretch)s")
            % {
                "base": _money(item["base"], language),
                "stretch": _money(item["stretch"], language),
            },
            _("Completion %(completion)s · pace %(pace)s · %(status)s")
            % {
                "completion": format_pct(
                    Decimal(item["completion"]) if item["completion"] else None
                ),
                "pace": format_pct(Decimal(item["pace"]) if item["pace"] else None),
                "status": status_label(item["status"]),
            },
        ]
        if item.get("carried_from"):
            facts.append(
                _("Deferred from the review of %(month)s") % {"month": item["carried_from"]}
            )
        if item["proposal"]:
            p = item["proposal"]
            from reviews.models import ProposalReason

            facts.append(
                _(
                    "Proposal by %(author)s: Base %(base)s · Stretch %(stretch)s (%(reason)s) %(explanation)s"
                )
                % {
                    "author": p["author"],
                    "base": _money(p["base"], language),
                    "stretch": _money(p["stretch"], language),
                    "reason": ProposalReason(p["reason"]).label,
                    "explanation": p["explanation"],
                }
            )
        if item["case"]:
            facts.append(
                _("Adjustment case: %(indicator)s, opened in %(week)s")
                % {
                    "indicator": indicator_label(item["case"]["indicator"]),
                    "week": item["case"]["opened_week"],
                }
            )
        if item.get("dispute"):
            from reviews.models import DisputeKind

            d = item["dispute"]
            facts.append(
                _("Flagged by %(author)s: %(kind)s · %(account)s · %(amount)s — %(comment)s")
                % {
                    "author": d["author"],
                    "kind": DisputeKind(d["kind"]).label,
                    "account": d["account"],
                    "amount": _money(d["amount"], language),
                    "comment": d["comment"],
                }
            )
        s = item["scores"]
        facts.append(
            _(
                "Mean scores: market data %(market)s · customer feedback %(customer)s · team capacity %(capacity)s"
            )
            % {k: s.get(k) or "—" for k in ("market", "customer", "capacity")}
        )
        members = [
            _(
                "%(user)s: market data %(market)s · customer feedback %(customer)s · team capacity %(capacity)s"
            )
            % {
                k: (m[k] if m[k] is not None else "—")
                for k in ("user", "market", "customer", "capacity")
            }
            + (f" — {m['notes']}" if m["notes"] else "")
            for m in item["member_scores"]
        ]
        if item["decision"]:
            decision = _("Decision: %(decision)s") % {
                "decision": ItemDecision(item["decision"]).label
            }
            if item["decision"] == ItemDecision.ADJUST:
                decision += " → " + _("Base %(base)s · Stretch %(stretch)s") % {
                    "base": _money(item["new_base"], language),
                    "stretch": _money(item["new_stretch"], language),
                }
            if item["decided_by"]:
                decision += " (" + item["decided_by"] + ")"
        else:
            decision = _("Decision: none taken")
        blocks.append(
            {
                "heading": f"{item['number']}. {kind} · {item['target']} · {item['period']}",
                "facts": facts,
                "members": members,
                "decision": decision,
                "notes": (_("Chair's notes: %(notes)s") % {"notes": item["notes"]})
                if item["notes"]
                else "",
            }
        )
    return title, header, blocks


def minutes_docx(data: dict, *, language: str) -> bytes:
    from docx import Document
    from docx.oxml.ns import qn

    with translation.override(language):
        title, header, blocks = _lines(data, language)
        document = Document()
        normal = document.styles["Normal"]
        # Word picks the East Asian font for Chinese characters from this attribute.
        normal.font.name = "Calibri"  # creates the run properties the next line sets
        normal.element.rPr.rFonts.set(qn("w:eastAsia"), "Microsoft YaHei")
        document.add_heading(title, level=0)
        for line in header:
            document.add_paragraph(line)
        if not blocks:
            document.add_paragraph(_("The agenda was empty."))
        for block in blocks:
            document.add_heading(block["heading"], level=2)
            for line in block["facts"]:
                document.add_paragraph(line)
            for line in block["members"]:
                document.add_paragraph(line, style="List Bullet")
            document.add_paragraph(block["decision"]).runs[0].bold = True
            if block["notes"]:
                document.add_paragraph(block["notes"])
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()


def _font_path() -> Path:
    path = Path(getattr(settings, "MINUTES_PDF_FONT", CJK_FONT))
    if not path.exists():
        raise ImproperlyConfigured(
            f"The PDF minutes need a CJK font at {path} (Debian: apt-get install fonts-wqy-microhei)."
        )
    return path


def minutes_pdf(data: dict, *, language: str) -> bytes:
    from fpdf import FPDF

    with translation.override(language):
        title, header, blocks = _lines(data, language)
        pdf = FPDF(format="A4")
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.add_font("cjk", "", str(_font_path()))
        pdf.add_page()
        width = pdf.epw

        def para(text: str, size: int = 10, gap: float = 1.5) -> None:
            pdf.set_font("cjk", size=size)
            pdf.set_x(pdf.l_margin)
            pdf.multi_cell(width, size * 0.5, text, align="L")
            pdf.ln(gap)

        para(title, size=18, gap=3)
        for line in header:
            para(line, size=11)
        pdf.ln(2)
        if not blocks:
            para(_("The agenda was empty."))
        for block in blocks:
            pdf.ln(2)
            para(block["heading"], size=13, gap=2)
            for line in block["facts"]:
                para(line)
            for line in block["members"]:
                para("• " + line)
            para(block["decision"], size=11)
            if block["notes"]:
                para(block["notes"])
        return bytes(pdf.output())


def minutes_file(
    meeting: ReviewMeeting, *, fmt: str, language: str, today: date
) -> tuple[bytes, str]:
    """(content, file name) of the minutes in `fmt` (docx or pdf)."""
    data = minutes_data(meeting, today=today)
    content = (minutes_docx if fmt == "docx" else minutes_pdf)(data, language=language)
    return content, f"review-{meeting.unit_id}-{meeting.month}.{fmt}"

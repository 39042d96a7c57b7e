"""The import template: the three sheets of DOMAIN §8 with their headers and one example row each,
a note on every column (a comment on the header and the 说明 sheet) and drop-down lists for
所属区县, 所在园区, 资质类型 and 状态."""
import io

from crm.areas import all_areas
from crm.ladder.standing import KIND_LABELS
from crm.models.area import DISTRICT, PARK
from crm.transfer.importer import STATUS_LABELS
from crm.transfer.schema import NOTES_SHEET, SHEETS
from crm.transfer.spreadsheet import Column, write_xlsx

GENERAL_NOTES = [
    ("全部", "", "", "", "第一行为表头，列的顺序不限；不认识的列会被忽略并提示。示例行（信用代码 91000000MA0000001R）导入时自动跳过。"),
    ("全部", "", "", "", "默认任何一行有错误就全部不导入；预览页会列出每个错误（工作表、行号、列、原因），也可选择只导入无误的行。"),
    ("全部", "", "", "", "同一企业再次导入时按统一社会信用代码更新；空白单元格不会清除系统中已有的数据。"),
]


def template_bytes() -> bytes:
    choices = {
        "district": tuple(a.name for a in all_areas(DISTRICT)),
        "park": ("无", *(a.name for a in all_areas(PARK))),  # “无” takes a registered company out of its park
        "cert_kind": tuple(KIND_LABELS.values()),
        "cert_status": tuple(STATUS_LABELS.values()),
    }
    sheets = [(spec.title,
               [Column(f.header, f.width, "@" if f.kind == "uscc" else None, f.note, choices.get(f.kind, ()))
                for f in spec.fields],
               [spec.example])
              for spec in SHEETS]
    notes = [(spec.title, f.header, "是" if f.required else "", "、".join(f.aliases), f.note)
             for spec in SHEETS for f in spec.fields]
    sheets.append((NOTES_SHEET, [Column("工作表", 10), Column("列名", 24), Column("必填", 6),
                                 Column("也可写作", 28), Column("说明", 80)], GENERAL_NOTES + notes))
    out = io.BytesIO()
    write_xlsx(out, sheets)
    return out.getvalue()

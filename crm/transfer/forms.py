from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField, SelectChoice, SelectField
from wtforms.validators import AnyOf

from crm.transfer.reader import SUPPORTED


class UploadForm(FlaskForm):
    file = FileField(_l("文件（.xlsx 或 .csv）"), validators=[
        FileRequired(_l("请选择要导入的文件")),
        FileAllowed([s.lstrip(".") for s in SUPPORTED], _l("只能上传 .xlsx 工作簿或 .csv 文件")),
    ])


class ConfirmForm(FlaskForm):
    mode = HiddenField(validators=[AnyOf(("all", "valid"))])


class ExportForm(FlaskForm):
    format = SelectField(choices=[SelectChoice("xlsx", "Excel"), SelectChoice("csv", "CSV")])

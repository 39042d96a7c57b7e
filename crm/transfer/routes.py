"""Import (upload → preview → confirm), the import template, and list exports."""
from pathlib import PurePath

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.access import editor_required
from crm.audit import record_export
from crm.clock import today
from crm.companies.service import CompanyFilter
from crm.downloads import attachment
from crm.extensions import db
from crm.transfer import uploads
from crm.transfer.exports import COMPANY_COLUMNS, company_rows
from crm.transfer.forms import ConfirmForm, ExportForm, UploadForm
from crm.transfer.importer import ImportResult, run_import
from crm.transfer.reader import ImportRefused
from crm.transfer.spreadsheet import XLSX_MIME, table_bytes
from crm.transfer.template import template_bytes

bp = Blueprint("transfer", __name__, url_prefix="/transfer")


@bp.route("/import", methods=["GET", "POST"])
@editor_required
def upload():
    form = UploadForm()
    if form.validate_on_submit():
        name, data = PurePath(form.file.data.filename or "").name, form.file.data.read()
        stored = uploads.store(data, name, current_user.id)
        try:
            result = run_import(data, name, current_user, dry_run=True)
        except ImportRefused as exc:
            uploads.discard(stored)
            form.file.errors.append(exc.reason)
        else:
            stored.result = result.to_dict()
            stored.save()
            return redirect(url_for(".preview", token=stored.token))
    max_mb = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    return render_template("transfer/upload.html", form=form, max_mb=max_mb), 200 if request.method == "GET" else 422


def _upload_or_404(token: str) -> uploads.Upload:
    """Only the user who uploaded a file sees it; anything else is a 404."""
    stored = uploads.load(token, current_user.id)
    if stored is None:
        abort(404)
    return stored


@bp.route("/import/<token>")
@editor_required
def preview(token: str):
    stored = _upload_or_404(token)
    return render_template("transfer/preview.html", upload=stored, result=ImportResult.from_dict(stored.result),
                           form=ConfirmForm())


@bp.route("/import/<token>/confirm", methods=["POST"])
@editor_required
def confirm(token: str):
    stored = _upload_or_404(token)
    form = ConfirmForm()
    if stored.done or not form.validate_on_submit():
        return redirect(url_for(".preview", token=token))
    data = stored.claim()
    if data is None:  # confirmed twice (a double click, two tabs): the first one imports
        flash(_("该文件正在导入，请稍候刷新查看结果。"), "warning")
        return redirect(url_for(".preview", token=token))
    try:  # the stored file is read and validated again: nothing from the preview is trusted
        result = run_import(data, stored.filename, current_user, skip_invalid=form.mode.data == "valid")
    except BaseException as exc:
        stored.release()
        if not isinstance(exc, ImportRefused):
            raise
        flash(exc.reason, "error")
        return redirect(url_for(".preview", token=token))
    if result.applied:
        stored.finish(result.to_dict())
        flash(_("导入完成：%(summary)s。", summary=_summary(result)), "success")
    else:
        stored.release()
        stored.result = result.to_dict()
        stored.save()
        flash(_("数据在预览之后有变化，现在有 %(n)s 行有错误，未导入任何数据。", n=result.rejected), "error")
    return redirect(url_for(".preview", token=token))


def _summary(result: ImportResult) -> str:
    return _("新建 %(c)s 行，更新 %(u)s 行，不变 %(s)s 行，未导入 %(r)s 行",
             c=sum(s.created for s in result.sheets), u=sum(s.updated for s in result.sheets),
             s=sum(s.unchanged for s in result.sheets), r=result.rejected)


@bp.route("/import/<token>/errors.xlsx")
@editor_required
def error_report(token: str):
    stored = _upload_or_404(token)
    return attachment(ImportResult.from_dict(stored.result).error_report(), XLSX_MIME,
                      f"错误报告-{PurePath(stored.filename).stem}.xlsx", "import-errors.xlsx")


@bp.route("/template.xlsx")
@editor_required
def template():
    return attachment(template_bytes(), XLSX_MIME, "Ladder企业导入模板.xlsx", "ladder-import-template.xlsx")


@bp.route("/export/companies", methods=["POST"])
def export_companies():
    """The company list as filtered on the list page; POST with CSRF, in the audit trail."""
    form = ExportForm()
    if not form.validate_on_submit():
        abort(400)
    f = CompanyFilter.from_args(request.form)
    rows = company_rows(current_user, f, today())
    data, mimetype = table_bytes(form.format.data, COMPANY_COLUMNS, rows, title="企业名单")
    record_export("companies", form.format.data, len(rows), vars(f))
    db.session.commit()
    return attachment(data, mimetype, f"企业名单-{today():%Y%m%d}.{form.format.data}",
                      f"companies-{today():%Y%m%d}.{form.format.data}")

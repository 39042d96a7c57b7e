"""Users kept by admins on /users/: roles and areas, ticked as checkboxes."""
import re

from sqlalchemy import select

from crm.extensions import db
from crm.models import User


def test_admin_gives_an_officer_two_areas_with_checkboxes_and_keeps_them_on_edit(make, auth, client):
    auth.login(make.user("admin"))
    page = client.get("/users/new").text
    tongchuan, park = make.area("511702"), make.area("达州高新区")
    assert f'type="checkbox" value="{tongchuan.id}"' in page and 'size="9"' not in page
    response = client.post("/users/new", data={"username": "zhangwei", "display_name": "张伟", "email": "z@kjj.local",
                                               "role": "officer", "password": "long-enough-1",
                                               "areas": [tongchuan.id, park.id]})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "zhangwei"))
    assert sorted(a.name for a in user.areas) == ["达州高新区", "通川区"]
    edit = client.get(f"/users/{user.id}").text
    ticked = set(re.findall(r'<input checked id="areas-\d+" name="areas" type="checkbox" value="(\d+)">', edit))
    assert ticked == {str(tongchuan.id), str(park.id)}
    assert "用户名不能含空格" in client.post("/users/new", data={
        "username": "王 五", "email": "w@kjj.local", "role": "officer", "password": "long-enough-1"}).text

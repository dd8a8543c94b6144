#!/usr/bin/python3
# Directory changes for the throwaway AD domain of the Kerberos tests (test/helpers/kerberos).
# One process for a batch of changes instead of one samba-tool run (about 0.5 s) per change.
# Uses Samba's own Python bindings (SamDB, Net.export_keytab): the same calls samba-tool makes.
#
# Usage: /usr/bin/python3 samba-admin.py SMB_CONF < ops.json
# ops.json: a JSON list of operations, applied in order:
#   {"op": "user", "name": "alice", "password": "...", "spns": [...], "enctypes": 24}
#   {"op": "group", "name": "payroll-admins", "members": ["alice"]}  (created when missing)
#   {"op": "delegation", "account": "svc-gateway", "any_protocol": true, "services": [...]}
#        (services replaces msDS-AllowedToDelegateTo; an empty list removes it)
#   {"op": "setpassword", "name": "svc-gateway", "password": "..."}
#   {"op": "disable", "name": "bob"} / {"op": "enable", "name": "bob"}
#   {"op": "sensitive", "name": "bob", "on": true}  ("account is sensitive and cannot be delegated")
#   {"op": "keytab", "principal": "svc-gateway@CORP.TEST", "file": "/path/x.keytab"}
# Prints a JSON object {"kvno": {account: msDS-KeyVersionNumber}} for the accounts touched.
import json
import os
import sys

import ldb
from samba import dsdb, enable_net_export_keytab
from samba.auth import system_session
from samba.net import Net
from samba.param import LoadParm
from samba.samdb import SamDB


def account_dn(sam, name):
    res = sam.search(
        expression="(sAMAccountName=%s)" % ldb.binary_encode(name),
        scope=ldb.SCOPE_SUBTREE,
        attrs=["msDS-KeyVersionNumber"],
    )
    if len(res) != 1:
        raise SystemExit("samba-admin: no single account named %r" % name)
    return res[0]


def replace(sam, name, attr, values):
    msg = ldb.Message()
    msg.dn = account_dn(sam, name).dn
    msg[attr] = ldb.MessageElement([str(v) for v in values], ldb.FLAG_MOD_REPLACE, attr)
    sam.modify(msg)


def main():
    enable_net_export_keytab()
    lp = LoadParm()
    lp.load(sys.argv[1])
    sam = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
    touched = set()
    for op in json.load(sys.stdin):
        kind = op["op"]
        if kind == "user":
            sam.newuser(op["name"], op["password"])
            if op.get("spns"):
                replace(sam, op["name"], "servicePrincipalName", op["spns"])
            if op.get("enctypes"):
                replace(sam, op["name"], "msDS-SupportedEncryptionTypes", [op["enctypes"]])
            touched.add(op["name"])
        elif kind == "group":
            found = sam.search(
                expression="(&(objectClass=group)(sAMAccountName=%s))" % ldb.binary_encode(op["name"]),
                scope=ldb.SCOPE_SUBTREE,
                attrs=["cn"],
            )
            if len(found) == 0:
                sam.newgroup(op["name"])
            if op.get("members"):
                sam.add_remove_group_members(op["name"], op["members"], add_members_operation=True)
        elif kind == "delegation":
            flt = "(sAMAccountName=%s)" % ldb.binary_encode(op["account"])
            sam.toggle_userAccountFlags(
                flt, dsdb.UF_TRUSTED_TO_AUTHENTICATE_FOR_DELEGATION, on=bool(op["any_protocol"])
            )
            replace(sam, op["account"], "msDS-AllowedToDelegateTo", op.get("services", []))
        elif kind == "setpassword":
            sam.setpassword("(sAMAccountName=%s)" % ldb.binary_encode(op["name"]), op["password"])
            touched.add(op["name"])
        elif kind in ("disable", "enable"):
            flt = "(sAMAccountName=%s)" % ldb.binary_encode(op["name"])
            sam.toggle_userAccountFlags(flt, dsdb.UF_ACCOUNTDISABLE, on=(kind == "disable"))
        elif kind == "sensitive":
            flt = "(sAMAccountName=%s)" % ldb.binary_encode(op["name"])
            sam.toggle_userAccountFlags(flt, dsdb.UF_NOT_DELEGATED, on=bool(op["on"]))
        elif kind == "keytab":
            tmp = op["file"] + ".tmp"
            if os.path.exists(tmp):
                os.unlink(tmp)
            Net(None, lp).export_keytab(keytab=tmp, principal=op["principal"])
            os.chmod(tmp, 0o644)
            os.replace(tmp, op["file"])
        else:
            raise SystemExit("samba-admin: unknown op %r" % kind)
    kvno = {}
    for name in sorted(touched):
        res = account_dn(sam, name)
        kvno[name] = int(res["msDS-KeyVersionNumber"][0]) if "msDS-KeyVersionNumber" in res else None
    print(json.dumps({"kvno": kvno}))


main()

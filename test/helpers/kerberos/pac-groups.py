#!/usr/bin/python3
# The groups a Windows-authentication app sees: decodes the PAC that the IIS stand-in exposes
# (GSS name attribute "urn:mspac:", base64 on stdin) with Samba's own NDR bindings and names its
# group RIDs from the domain's directory.
# Usage: /usr/bin/python3 pac-groups.py SMB_CONF < pac.b64
# Prints {"account": "alice", "domain": "CORP", "groups": ["Domain Users", "payroll-admins"]}.
import base64
import json
import sys

import ldb
from samba.auth import system_session
from samba.dcerpc import krb5pac
from samba.ndr import ndr_unpack
from samba.param import LoadParm
from samba.samdb import SamDB

pac = ndr_unpack(krb5pac.PAC_DATA, base64.b64decode(sys.stdin.read().strip()), allow_remaining=True)
logon = [b for b in pac.buffers if b.type == krb5pac.PAC_TYPE_LOGON_INFO]
if len(logon) != 1:
    raise SystemExit("pac-groups: no logon info in the PAC")
base = logon[0].info.info.info3.base
lp = LoadParm()
lp.load(sys.argv[1])
sam = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
names = []
for g in base.groups.rids or []:
    sid = "%s-%d" % (base.domain_sid, g.rid)
    res = sam.search(
        base="<SID=%s>" % sid, scope=ldb.SCOPE_BASE, attrs=["sAMAccountName"]
    )
    names.append(str(res[0]["sAMAccountName"][0]) if len(res) == 1 else sid)
print(
    json.dumps(
        {"account": str(base.account_name.string), "domain": str(base.logon_domain.string), "groups": names}
    )
)

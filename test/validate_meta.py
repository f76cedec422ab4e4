#!/usr/bin/env python3
"""Checks META.json against the PGXN Meta Spec 1.0.0 (https://pgxn.org/spec/):
required keys, semantic versions, licence strings, provides entries and
prereq phases/relations.  Debian ships no PGXN validator, so this encodes
the spec's rules; it prints "ok - ..." or "not ok - ..." lines."""
import json, re, sys

SEMVER = re.compile(r'^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$')
LICENSES = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd",
            "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1",
            "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
            "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
            "restricted", "unrestricted", "unknown"}
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}
STATUS = {"stable", "testing", "unstable"}

def check(path):
    errs = []
    try:
        m = json.load(open(path))
    except Exception as e:  # noqa: BLE001
        return [f"not JSON: {e}"]
    for k in ("name", "abstract", "maintainer", "license", "provides", "meta-spec", "version"):
        if k not in m:
            errs.append(f"missing required key {k}")
    if not re.match(r'^[A-Za-z][A-Za-z0-9_-]*$', str(m.get("name", ""))):
        errs.append("name must be an identifier")
    if not SEMVER.match(str(m.get("version", ""))):
        errs.append("version is not a semantic version")
    ms = m.get("meta-spec", {})
    if ms.get("version") != "1.0.0":
        errs.append("meta-spec.version must be 1.0.0")
    mt = m.get("maintainer")
    if not (isinstance(mt, str) or (isinstance(mt, list) and mt and all(isinstance(x, str) for x in mt))):
        errs.append("maintainer must be a string or a list of strings")
    lic = m.get("license")
    lics = [lic] if isinstance(lic, str) else (list(lic.keys()) if isinstance(lic, dict) else lic or [])
    if isinstance(lic, (str, list)) and not all(l in LICENSES for l in lics):
        errs.append(f"unknown license {lic}")
    prov = m.get("provides", {})
    if not isinstance(prov, dict) or not prov:
        errs.append("provides must be a non-empty object")
    else:
        for ext, p in prov.items():
            if "version" not in p or not SEMVER.match(p["version"]):
                errs.append(f"provides.{ext}.version missing or not semver")
            if "file" in p:
                import os
                if not os.path.exists(os.path.join(os.path.dirname(path) or ".", p["file"])):
                    errs.append(f"provides.{ext}.file {p['file']} does not exist")
    for phase, rels in m.get("prereqs", {}).items():
        if phase not in PHASES:
            errs.append(f"unknown prereq phase {phase}")
        for rel, mods in rels.items():
            if rel not in RELATIONS:
                errs.append(f"unknown prereq relation {rel}")
            for mod, ver in mods.items():
                if not (ver == 0 or SEMVER.match(str(ver)) or re.match(r'^[<>=!]', str(ver))):
                    errs.append(f"prereq {mod} version {ver} invalid")
    if "release_status" in m and m["release_status"] not in STATUS:
        errs.append("release_status invalid")
    for k in m:
        if k not in {"name", "abstract", "description", "version", "maintainer", "license",
                     "provides", "prereqs", "resources", "generated_by", "meta-spec",
                     "tags", "release_status", "no_index"} and not k.startswith("x_") and not k.startswith("X_"):
            errs.append(f"unknown key {k} (custom keys start with x_)")
    return errs

if __name__ == "__main__":
    errs = check(sys.argv[1] if len(sys.argv) > 1 else "META.json")
    for e in errs:
        print(f"not ok - META.json: {e}")
    if not errs:
        print("ok - META.json validates against PGXN Meta Spec 1.0.0")
    sys.exit(1 if errs else 0)

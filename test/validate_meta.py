#!/usr/bin/env python3
"""Checks META.json against the PGXN Meta Spec 1.0.0 (https://pgxn.org/spec/):
required keys, semantic versions, licence strings, provides entries and
prereq phases/relations.  Debian ships no PGXN validator, so this encodes
the spec's rules.  Then what ties META.json to the rest of the tree: its
version against memprof.control's default_version, the install script it
names and debian/changelog, the name `make dist` gives the PGXN zip, and no
placeholder addresses.  Prints "ok - ..." or "not ok - ..." lines.

    test/validate_meta.py [META.json]"""
import json, os, re, sys

SEMVER = re.compile(r'^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$')
LICENSES = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd",
            "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1",
            "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
            "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
            "restricted", "unrestricted", "unknown"}
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}
STATUS = {"stable", "testing", "unstable"}

def valid_prereq_version(ver):
    """0, a semantic version, or comma-separated clauses "OP VERSION"."""
    if ver == 0 or SEMVER.match(str(ver)):
        return True
    return all(re.match(r'^(==|!=|>=|<=|>|<)\s*', c) and SEMVER.match(re.sub(r'^(==|!=|>=|<=|>|<)\s*', '', c))
               for c in (x.strip() for x in str(ver).split(',')))

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
                if not valid_prereq_version(ver):
                    errs.append(f"prereq {mod} version {ver} invalid")
    if "release_status" in m and m["release_status"] not in STATUS:
        errs.append("release_status invalid")
    for k in m:
        if k not in {"name", "abstract", "description", "version", "maintainer", "license",
                     "provides", "prereqs", "resources", "generated_by", "meta-spec",
                     "tags", "release_status", "no_index"} and not k.startswith("x_") and not k.startswith("X_"):
            errs.append(f"unknown key {k} (custom keys start with x_)")
    return errs

def tree_checks(path):
    """(ok, message) pairs: META.json against the rest of the tree."""
    out = []
    top = os.path.dirname(path) or "."
    try:
        text = open(path).read()
        m = json.loads(text)
    except Exception as e:  # noqa: BLE001
        return [(False, f"META.json unreadable: {e}")]
    version = str(m.get("version", ""))
    control = os.path.join(top, "memprof.control")
    dv = None
    if os.path.exists(control):
        mm = re.search(r"^default_version\s*=\s*'([^']*)'", open(control).read(), re.M)
        dv = mm.group(1) if mm else None
    ok = dv is not None and (version == dv or version.startswith(dv + "."))
    out.append((ok, f"META.json version {version} is memprof.control's default_version {dv}"))
    prov = m.get("provides", {}).get("memprof", {})
    ok = prov.get("version") == version and prov.get("file") == f"extension/memprof--{dv}.sql"
    out.append((ok, f"provides.memprof is version {prov.get('version')}, file {prov.get('file')} (the install script of {dv})"))
    # the Makefile's dist target reads the first line indented by three
    # spaces that holds "version": the top-level one
    mm = re.search(r'^   "version": *"([^"]*)"', text, re.M)
    dist = mm.group(1) if mm else None
    out.append((dist == version, f"make dist names the PGXN zip memprof-{dist}.zip"))
    changelog = os.path.join(top, "debian", "changelog")
    if os.path.exists(changelog):
        mm = re.match(r'^memprof \(([^)]*?)(?:-[^-)]*)?\)', open(changelog).readline())
        deb = mm.group(1) if mm else None
        out.append((deb == version, f"debian/changelog's upstream version {deb} is META.json's"))
    bad = re.findall(r'example\.(?:org|com|net)|github\.com', text)
    out.append((not bad, "META.json names no placeholder address or repository" + (f" (found {', '.join(bad)})" if bad else "")))
    return out

if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "META.json"
    errs = check(path)
    for e in errs:
        print(f"not ok - META.json: {e}")
    if not errs:
        print("ok - META.json validates against PGXN Meta Spec 1.0.0")
    bad = len(errs)
    for ok, msg in tree_checks(path):
        print(f"{'ok' if ok else 'not ok'} - {msg}")
        bad += 0 if ok else 1
    sys.exit(1 if bad else 0)

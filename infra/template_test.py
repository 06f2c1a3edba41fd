#!/usr/bin/env python3
"""Checks infra/template.yaml against the code (run by `make test`).

Each function's Environment (Globals plus its own) must hold exactly what the
function reads, no more and no less:
- the `var::NAME` in its main.rs's `Config::load_or_exit(&[...])` (NAME is the
  string of shared/src/platform/config.rs's `pub mod var` constant),
- the `std::env::var("NAME")` of its main.rs and lib.rs,
- what shared code reads in every function (telemetry: ENV, LOG_FORMAT), and
  TRUST_VIEWER_ADDRESS=true exactly on the functions whose URL takes only
  CloudFront's signed requests (AuthType AWS_IAM; shared/src/platform/http.rs),
- the few names read another way, listed in READ_ELSEWHERE with where;
and may hold the OPTIONAL ones (DATABASE_MAX_CONNECTIONS beside DATABASE_URL;
on an HTTP function, the RATE_<NAME> of shared/src/platform/rate_limit.rs's limits).

It also checks the template's hardening stays in place: every function has a
concurrency ceiling, every DATABASE_URL verifies TLS, every AWS_IAM function
URL is a CloudFront origin with Origin Access Control and lets only its
distribution invoke it, every cache behaviour has the security headers, the
distribution in front of the functions has a web ACL, and a bucket behind
CloudFront (the photos) blocks public access and lets only its distribution
read it.

    template_test.py [--template PATH]   the checks (exit 1 with the findings)
    template_test.py --waf-template      the web ACL alone, as a template for
                                         us-east-1 (infra/README.md, Edge)

Needs PyYAML (the venv of infra/local/requirements.txt has it).
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

# Read by shared code in every function (shared/src/platform/telemetry.rs).
EVERY_FUNCTION = {"ENV", "LOG_FORMAT"}

# Read by the code of one function, but not through load_or_exit or a
# std::env::var("…") literal: (function, name) -> the file that must name it
# (None: read by glibc, not by our code).
READ_ELSEWHERE = {
    ("storefront", "SITE_BASE"): "functions/storefront/src/lib.rs",
    ("storefront", "API_BASE"): "functions/storefront/src/lib.rs",
    ("accounts", "MALLOC_MMAP_THRESHOLD_"): None,
}

# Optional, with a default in config.rs: allowed on a function that reads
# the variable it goes with (the pool's size where there is a pool).
OPTIONAL = {"DATABASE_MAX_CONNECTIONS": "DATABASE_URL"}

TRUST = "TRUST_VIEWER_ADDRESS"


def rate_variables():
    """`RATE_<NAME>` of every limit in shared/src/platform/rate_limit.rs: optional
    (each limit has a default), allowed on the functions that serve HTTP."""
    text = (ROOT / "shared/src/platform/rate_limit.rs").read_text()
    names = re.findall(r'name: "([a-z0-9-]+)"', text)
    return {"RATE_" + n.upper().replace("-", "_") for n in names}


class Tagged:
    """A CloudFormation short-form function (!Ref, !Sub, …), kept as is."""

    def __init__(self, tag, value):
        self.tag, self.value = tag, value

    def __repr__(self):
        return f"{self.tag} {self.value!r}"


class Loader(yaml.SafeLoader):
    pass


def _construct(loader, suffix, node):
    tag = "!" + suffix
    if isinstance(node, yaml.ScalarNode):
        return Tagged(tag, loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return Tagged(tag, loader.construct_sequence(node, deep=True))
    return Tagged(tag, loader.construct_mapping(node, deep=True))


Loader.add_multi_constructor("!", _construct)


class Dumper(yaml.SafeDumper):
    pass


def _represent(dumper, data):
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value, flow_style=True)
    if isinstance(data.value, dict):
        return dumper.represent_mapping(data.tag, data.value)
    return dumper.represent_scalar(data.tag, data.value)


Dumper.add_representer(Tagged, _represent)


def var_constants():
    """shared/src/platform/config.rs's `pub mod var`: constant name -> variable name."""
    text = (ROOT / "shared/src/platform/config.rs").read_text()
    block = re.search(r"pub mod var \{(.*?)\n\}", text, re.S)
    if not block:
        sys.exit("template_test: no `pub mod var` in shared/src/platform/config.rs")
    return dict(re.findall(r'pub const (\w+): &str = "([^"]+)";', block.group(1)))


def reads(binary, constants):
    """What functions/<binary> reads: (required by load_or_exit, other env::var names)."""
    src = ROOT / "functions" / binary / "src"
    main = (src / "main.rs").read_text()
    call = re.search(r"load_or_exit\(\s*&\[(.*?)\]\s*\)", main, re.S)
    if not call:
        raise ValueError(f"functions/{binary}/src/main.rs: no Config::load_or_exit(&[...])")
    required = set()
    for const in re.findall(r"var::(\w+)", call.group(1)):
        if const not in constants:
            raise ValueError(f"functions/{binary}/src/main.rs: var::{const} is not in config.rs's `pub mod var`")
        required.add(constants[const])
    other = set()
    for path in (src / "main.rs", src / "lib.rs"):
        if path.exists():
            other |= set(re.findall(r'env::var(?:_os)?\(\s*"([A-Za-z0-9_]+)"\s*\)', path.read_text()))
    return required, other


def variables(props):
    env = (props or {}).get("Environment") or {}
    return dict(env.get("Variables") or {})


def branches(value):
    """The values an `!If [condition, a, b]` may take (the value itself otherwise)."""
    if isinstance(value, Tagged) and value.tag == "!If" and isinstance(value.value, list) and len(value.value) == 3:
        return [value.value[1], value.value[2]]
    return [value]


def sub_text(value):
    """The string of a !Sub (or a plain string)."""
    if isinstance(value, Tagged) and value.tag == "!Sub":
        return value.value if isinstance(value.value, str) else value.value[0]
    return value if isinstance(value, str) else ""


def refers_to(value, name):
    """Does this value (!Ref, !GetAtt, !Sub, nested) mention resource `name`?"""
    if isinstance(value, Tagged):
        if value.tag == "!Ref":
            return value.value == name
        if value.tag == "!GetAtt":
            target = value.value if isinstance(value.value, str) else value.value[0]
            return target.split(".")[0] == name
        if value.tag == "!Sub":
            return "${" + name + "}" in sub_text(value) or "${" + name + "." in sub_text(value)
        return refers_to(value.value, name)
    if isinstance(value, list):
        return any(refers_to(v, name) for v in value)
    if isinstance(value, dict):
        return any(refers_to(v, name) for v in value.values())
    return False


def check(template_path):
    template = yaml.load(template_path.read_text(), Loader=Loader)
    resources = template["Resources"]
    constants = var_constants()
    rates = rate_variables()
    problems = []

    globals_env = variables(((template.get("Globals") or {}).get("Function")) or {})
    if set(globals_env) != EVERY_FUNCTION:
        problems.append(
            f"Globals: Environment must hold only what every function reads ({', '.join(sorted(EVERY_FUNCTION))}); "
            f"has {', '.join(sorted(set(globals_env) - EVERY_FUNCTION)) or 'nothing more'}"
            f"{', lacks ' + ', '.join(sorted(EVERY_FUNCTION - set(globals_env))) if EVERY_FUNCTION - set(globals_env) else ''}"
        )

    functions = {
        name: res
        for name, res in resources.items()
        if res.get("Type") == "AWS::Serverless::Function"
    }
    if not functions:
        problems.append("no AWS::Serverless::Function in the template")
    total_concurrency = 0
    iam_functions = []
    for name, res in sorted(functions.items()):
        props = res.get("Properties") or {}
        binary = ((res.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
        if not binary:
            problems.append(f"{name}: no Metadata.BuildProperties.Binary")
            continue
        try:
            required, other = reads(binary, constants)
        except (OSError, ValueError) as err:
            problems.append(f"{name} ({binary}): {err}")
            continue
        own = variables(props)
        have = set(globals_env) | set(own)
        auth = ((props.get("FunctionUrlConfig") or {}).get("AuthType"))
        expected = required | other | EVERY_FUNCTION
        if auth == "AWS_IAM":
            expected.add(TRUST)
            iam_functions.append(name)
            if own.get(TRUST) != "true":
                problems.append(f'{name} ({binary}): {TRUST} must be "true" (its URL takes only CloudFront\'s requests)')
        elif TRUST in have:
            problems.append(f"{name} ({binary}): {TRUST} is set but its URL is not behind CloudFront alone (AuthType {auth})")
        allowed = expected | {v for (f, v) in READ_ELSEWHERE if f == binary}
        allowed |= {v for v, with_ in OPTIONAL.items() if with_ in required}
        if auth:
            allowed |= rates
        missing = sorted(expected - have)
        extra = sorted(have - allowed)
        if missing:
            problems.append(f"{name} ({binary}): missing {', '.join(missing)} (read by functions/{binary})")
        if extra:
            problems.append(
                f"{name} ({binary}): extra {', '.join(extra)} (functions/{binary} does not read them: "
                f"remove them, or ask for them in its main.rs)"
            )
        # A database made by the stack or an existing one (an !If): every
        # branch verifies the server's certificate.
        for url in branches(own.get("DATABASE_URL")):
            url = sub_text(url)
            if "DATABASE_URL" in own and not (
                re.search(r"[?&]ssl-mode=VERIFY_IDENTITY(&|$)", url, re.I) and re.search(r"[?&]ssl-ca=[^&]+", url)
            ):
                problems.append(f"{name} ({binary}): DATABASE_URL lacks ssl-mode=VERIFY_IDENTITY and ssl-ca=")
        ceiling = props.get("ReservedConcurrentExecutions")
        if not isinstance(ceiling, int) or ceiling < 1:
            problems.append(f"{name} ({binary}): no ReservedConcurrentExecutions ceiling")
        else:
            total_concurrency += ceiling

    for (binary, var_name), path in READ_ELSEWHERE.items():
        if path and f'"{var_name}"' not in (ROOT / path).read_text():
            problems.append(f"READ_ELSEWHERE: {path} no longer names {var_name}: update infra/template_test.py")

    # The edge: OAC, the invoke permissions, headers, WAF; the photos bucket.
    distributions = {
        n: r for n, r in resources.items() if r.get("Type") == "AWS::CloudFront::Distribution"
    }
    if iam_functions and not distributions:
        problems.append("AWS_IAM function URLs but no CloudFront distribution")
    origins_of = {
        n: (r["Properties"]["DistributionConfig"].get("Origins") or []) for n, r in distributions.items()
    }
    permissions = [r.get("Properties") or {} for r in resources.values() if r.get("Type") == "AWS::Lambda::Permission"]
    for fn in iam_functions:
        found = [
            (dn, o) for dn, origins in origins_of.items() for o in origins
            if refers_to(o.get("DomainName"), fn + "Url")
        ]
        if not found:
            problems.append(f"{fn}: AWS_IAM URL but no CloudFront origin for it")
            continue
        distribution, origin = found[0]
        if not origin.get("OriginAccessControlId"):
            problems.append(f"{fn}: its CloudFront origin has no OriginAccessControlId")
        for action in ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction"):
            granted = [
                p for p in permissions
                if p.get("Action") == action and refers_to(p.get("FunctionName"), fn)
            ]
            if not granted:
                problems.append(f"{fn}: no {action} permission for CloudFront")
            for p in granted:
                if p.get("Principal") != "cloudfront.amazonaws.com" or not refers_to(p.get("SourceArn"), distribution):
                    problems.append(f"{fn}: {action} must be for cloudfront.amazonaws.com with SourceArn the distribution")
    policies = [r.get("Properties") or {} for r in resources.values() if r.get("Type") == "AWS::S3::BucketPolicy"]
    for distribution, res in sorted(distributions.items()):
        config = res["Properties"]["DistributionConfig"]
        origins = origins_of[distribution]
        serves_functions = any(
            refers_to(o.get("DomainName"), fn + "Url") for o in origins for fn in functions
        )
        if serves_functions and not config.get("WebACLId"):
            problems.append(f"{distribution}: no WebACLId (AWS WAF)")
        behaviours = [config.get("DefaultCacheBehavior") or {}] + list(config.get("CacheBehaviors") or [])
        for b in behaviours:
            if not b.get("ResponseHeadersPolicyId"):
                problems.append(f"{distribution}: behaviour {b.get('PathPattern', 'default')} has no ResponseHeadersPolicyId")
        for o in origins:
            if not o.get("OriginAccessControlId"):
                problems.append(f"{distribution}: origin {o.get('Id')} has no Origin Access Control")
            if "S3OriginConfig" not in o:
                continue
            # A bucket behind CloudFront: private, and read by this distribution alone.
            bucket = next((b for b, r in resources.items()
                           if r.get("Type") == "AWS::S3::Bucket" and refers_to(o.get("DomainName"), b)), None)
            if bucket is None:
                problems.append(f"{distribution}: origin {o.get('Id')} is not a bucket of this template")
                continue
            block = (resources[bucket].get("Properties") or {}).get("PublicAccessBlockConfiguration") or {}
            for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
                if block.get(key) is not True:
                    problems.append(f"{bucket}: PublicAccessBlockConfiguration.{key} must be true")
            statements = [
                st for pol in policies if refers_to(pol.get("Bucket"), bucket)
                for st in ((pol.get("PolicyDocument") or {}).get("Statement") or [])
            ]
            readers = [st for st in statements if st.get("Effect") == "Allow"]
            if not readers:
                problems.append(f"{bucket}: no bucket policy lets {distribution} read it")
            for st in readers:
                principal = st.get("Principal") or {}
                if principal != {"Service": "cloudfront.amazonaws.com"} or not refers_to(st.get("Condition"), distribution):
                    problems.append(f"{bucket}: its policy allows someone else than {distribution} (Service cloudfront.amazonaws.com, AWS:SourceArn the distribution)")

    return problems, len(functions), total_concurrency


def waf_template(template_path):
    """The web ACL and what it refers to, as a template of its own."""
    template = yaml.load(template_path.read_text(), Loader=Loader)
    acl = dict(template["Resources"]["WebAcl"])
    acl.pop("Condition", None)
    params = {
        name: spec
        for name, spec in template["Parameters"].items()
        if refers_to(acl, name)
    }
    return yaml.dump(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "OC Pizza: the CloudFront web ACL (us-east-1), made from infra/template.yaml's WebAcl.",
            "Parameters": params,
            "Resources": {"WebAcl": acl},
            "Outputs": {
                "WebAclArn": {
                    "Description": "Give it to the main stack as WebAclArn.",
                    "Value": Tagged("!GetAtt", "WebAcl.Arn"),
                }
            },
        },
        Dumper=Dumper,
        sort_keys=False,
        width=100,
    )


def lint_waf_template(template_path):
    """The us-east-1 web ACL template must stay deployable: cfn-lint it, when
    cfn-lint sits beside this Python (the venv of make test)."""
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    if not cfn_lint.exists():
        return []
    try:
        text = waf_template(template_path)
    except KeyError as err:
        return [f"--waf-template: the template has no {err}"]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as out:
        out.write(text)
        out.flush()
        run = subprocess.run([str(cfn_lint), out.name], capture_output=True, text=True)
    if run.returncode != 0:
        return [f"--waf-template output fails cfn-lint:\n{run.stdout}{run.stderr}"]
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--template", type=Path, default=ROOT / "infra/template.yaml")
    parser.add_argument("--waf-template", action="store_true", help="print the web ACL's own template")
    args = parser.parse_args()
    if args.waf_template:
        sys.stdout.write(waf_template(args.template))
        return 0
    problems, count, total = check(args.template)
    problems += lint_waf_template(args.template)
    for p in problems:
        print(f"template_test: {p}", file=sys.stderr)
    if problems:
        print(f"template_test: {len(problems)} finding(s) in {args.template}", file=sys.stderr)
        return 1
    print(
        f"template_test: {count} functions hold exactly the settings they read; "
        f"concurrency ceilings {total} in all; edge hardening in place"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

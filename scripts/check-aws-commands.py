#!/usr/bin/env python3
"""Check `aws` command lines against the AWS CLI's argument model (botocore's service models).

Reads a JSON array of command strings on standard input (each `aws SERVICE OPERATION --param
value ...`, already shell-split by nothing: this script splits with shlex). For each it checks
that the service and operation exist, that every `--option` is a parameter of the operation (or
an AWS CLI global / pagination option, or one of the CLI's own customisations listed below), and
that the required parameters are present (unless `--cli-input-json/yaml` or a literal `...` says
the rest is elided). `aws SERVICE wait WAITER ...` is checked against the waiter's operation. Prints one line per problem and exits 1 when there is any.

Used by crates/emrguard/tests/aws_commands.rs; botocore comes from PyPI (.ci/run installs it).
"""
import json
import shlex
import sys

import botocore.session
from botocore import xform_name

GLOBAL = {
    "debug", "endpoint-url", "no-verify-ssl", "no-paginate", "output", "query", "profile",
    "region", "version", "color", "no-sign-request", "ca-bundle", "cli-read-timeout",
    "cli-connect-timeout", "cli-binary-format", "no-cli-pager", "cli-auto-prompt",
    "no-cli-auto-prompt", "cli-input-json", "cli-input-yaml", "generate-cli-skeleton",
}
PAGINATION = {"starting-token", "page-size", "max-items"}

# AWS CLI v2 commands that are customisations (not botocore operations), with their documented
# options: (required, optional). Sources: the AWS CLI v2 command reference pages.
CUSTOM = {
    ("emr-containers", "update-role-trust-policy"): (
        {"cluster-name", "namespace", "role-name"}, {"iam-endpoint", "dry-run"}),
    ("emr-containers", "create-role-associations"): (
        {"cluster-name", "namespace", "role-name"},
        {"type", "operator-namespace", "service-account-name"}),
    ("emr-containers", "delete-role-associations"): (
        {"cluster-name", "namespace", "role-name"},
        {"type", "operator-namespace", "service-account-name"}),
    ("eks", "update-kubeconfig"): (
        {"name"}, {"kubeconfig", "role-arn", "dry-run", "verbose", "alias", "user-alias"}),
}
# Options the CLI adds to some operations (customisations on top of the model).
EXTRA = {
    ("ec2", "authorize-security-group-ingress"): {"protocol", "port", "cidr", "source-group", "group-owner"},
    ("ec2", "revoke-security-group-ingress"): {"protocol", "port", "cidr", "source-group", "group-owner"},
}
CLI_TO_MODEL = {"s3api": "s3", "configservice": "config"}


def check(session, cmd, models):
    try:
        argv = shlex.split(cmd)
    except ValueError as e:
        return [f"{cmd}: does not parse as a shell command: {e}"]
    if len(argv) < 3 or argv[0] != "aws":
        return [f"{cmd}: not `aws SERVICE OPERATION ...`"]
    service, op = argv[1], argv[2]
    opts, elided, i = [], False, 3
    # `aws SERVICE wait WAITER ...`: the waiter's operation takes the options.
    waiter = None
    if op == "wait":
        if len(argv) < 4:
            return [f"{cmd}: `wait` needs a waiter name"]
        waiter, i = argv[3], 4
    while i < len(argv):
        a = argv[i]
        if a == "...":
            elided = True
        elif a.startswith("--"):
            name = a[2:].split("=", 1)[0]
            opts.append(name)
        i += 1
    if (service, op) in CUSTOM:
        req, opt = CUSTOM[(service, op)]
        known, required = req | opt, req
    else:
        model_name = CLI_TO_MODEL.get(service, service)
        if model_name not in models:
            return [f"{cmd}: unknown service `{service}`"]
        model = session.get_service_model(model_name)
        ops = {xform_name(o, "-"): o for o in model.operation_names}
        if waiter is not None:
            try:
                wm = session.get_waiter_model(model_name)
            except Exception:  # noqa: BLE001 - a service without waiters
                return [f"{cmd}: `{service}` has no waiters"]
            names = {xform_name(w, "-"): w for w in wm.waiter_names}
            if waiter not in names:
                return [f"{cmd}: `{service} wait` has no waiter `{waiter}`"]
            op = xform_name(wm.get_waiter(names[waiter]).operation, "-")
        if op not in ops:
            return [f"{cmd}: `{service}` has no operation `{op}`"]
        om = model.operation_model(ops[op])
        members = om.input_shape.members if om.input_shape else {}
        known, required = set(), set()
        for mname, shape in members.items():
            kebab = xform_name(mname, "-")
            known.add(kebab)
            if shape.type_name == "boolean":
                known.add("no-" + kebab)
        if om.input_shape:
            # Idempotency tokens (`clientToken`) are filled in by the CLI when absent.
            required = {
                xform_name(r, "-")
                for r in om.input_shape.required_members
                if not members[r].metadata.get("idempotencyToken")
            }
        known |= PAGINATION | EXTRA.get((service, op), set())
    problems = []
    for o in opts:
        if o not in known and o not in GLOBAL:
            problems.append(f"{cmd}: `{service} {op}` has no option `--{o}`")
    if not elided and "cli-input-json" not in opts and "cli-input-yaml" not in opts:
        for r in sorted(required - set(opts)):
            # Boolean required members may be given as --no-X.
            if "no-" + r not in opts:
                problems.append(f"{cmd}: `{service} {op}` needs `--{r}`")
    return problems


def main():
    cmds = json.load(sys.stdin)
    session = botocore.session.get_session()
    models = set(session.get_available_services())
    problems = []
    for c in cmds:
        problems.extend(check(session, c, models))
    for p in problems:
        print(p)
    print(f"checked {len(cmds)} aws commands, {len(problems)} problems", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

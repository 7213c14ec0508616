#!/usr/bin/env python3
"""Generate a large EKS + EMR on EKS snapshot for the rbac benchmark (issue 4, "Performance").

    python3 bench/rbac/gen.py OUT_DIR [--slice SLICE_DIR]

OUT_DIR gets, as plain `kubectl get -o json` Lists and `aws` outputs:
  - 2,000 namespaces, 400 of them EMR namespaces (one running virtual cluster each);
  - 20,000 Roles (10 per namespace, EMR's emr-containers / spark-client / spark-driver included);
  - 100,000 RoleBindings and ClusterRoleBindings (50 per namespace) to 5,000 users, 500 groups and
    per-namespace service accounts;
  - ClusterRoles: Kubernetes' bootstrap roles (admin/edit/view aggregation, from
    ../shared/corpora/k8s-bootstrap-rbac when present) and 60 aggregated ClusterRole families
    (aggregators with `rules: null`, resolved offline from labels, two levels deep);
  - aws-auth mapping the 500 groups (templated usernames) and 5,000 users, plus EKS access entries
    with namespace-scoped access policies for 200 submitter roles.
About 5 % of the EMR namespaces' bindings give job submitters a capability (edit, exec, secrets),
so the run reports a realistic number of findings.

With --fanout (issue 11, "Performance"), every 50th binding is instead a ClusterRoleBinding (2 %,
about 2,000) to an aggregated or shared ClusterRole with write verbs (`edit`, `admin`, a shared
`ci-writer`, the aggregated families whose `-write` part writes configmaps), bound to 1-3 random
users or groups: each such grant reaches all 400 EMR namespaces, the shape that turned one cause
into 400 findings per subject before findings were per cause.

With --slice, SLICE_DIR gets the first 10,000 bindings with the roles they reference, as
multi-document YAML of single objects (what checkov's kubernetes framework reads).
Deterministic (seeded).
"""
import json, os, random, sys

rnd = random.Random(4)
ACCT = "111122223333"
N_NS, N_EMR, ROLES_PER_NS, BINDINGS_PER_NS = 2000, 400, 10, 50
N_USERS, N_GROUPS, N_FAMILIES = 5000, 500, 60
RBAC = "rbac.authorization.k8s.io"

def meta(name, ns=None, labels=None, i=0):
    m = {"name": name, "uid": "%08x-0000-4000-8000-%012x" % (i & 0xffffffff, rnd.getrandbits(48)),
         "resourceVersion": str(4000000 + i), "creationTimestamp": "2025-03-02T16:45:10Z"}
    if ns: m["namespace"] = ns
    if labels: m["labels"] = labels
    return m

def rule(groups, resources, verbs, names=None):
    r = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names: r["resourceNames"] = names
    return r

def subj(kind, name, ns=None):
    s = {"kind": kind, "name": name}
    if kind in ("User", "Group"): s["apiGroup"] = RBAC
    if ns: s["namespace"] = ns
    return s

EMR_RULES = [
    rule([""], ["namespaces"], ["get"]),
    rule([""], ["serviceaccounts", "services", "configmaps", "events", "pods", "pods/log"], ["get", "list", "watch", "describe", "create", "edit", "delete", "deletecollection", "annotate", "patch", "label"]),
    rule([""], ["secrets"], ["create", "patch", "delete", "watch"]),
    rule(["apps"], ["statefulsets", "deployments"], ["get", "list", "watch", "describe", "create", "edit", "delete", "annotate", "patch", "label"]),
    rule(["batch"], ["jobs"], ["get", "list", "watch", "describe", "create", "edit", "delete", "annotate", "patch", "label"]),
    rule(["extensions", "networking.k8s.io"], ["ingresses"], ["get", "list", "watch", "describe", "create", "edit", "delete", "annotate", "patch", "label"]),
    rule([RBAC], ["roles", "rolebindings"], ["get", "list", "watch", "describe", "create", "edit", "delete", "deletecollection", "annotate", "patch", "label"]),
    rule([""], ["persistentvolumeclaims"], ["create", "list", "delete", "deletecollection"]),
    rule(["scheduling.volcano.sh"], ["podgroups"], ["get", "list", "watch", "create", "delete", "update"]),
]
READ = [rule(["", "apps", "batch"], ["pods", "pods/log", "services", "deployments", "jobs", "events"], ["get", "list", "watch"])]
APP_ROLES = [
    ("app-reader", READ),
    ("app-deployer", [rule(["apps"], ["deployments", "statefulsets"], ["get", "list", "create", "update", "patch"])]),
    ("config-editor", [rule([""], ["configmaps"], ["get", "list", "create", "update", "patch"])]),
    ("debugger", [rule([""], ["pods/exec", "pods/attach"], ["create", "get"]), rule([""], ["pods"], ["get", "list"])]),
    ("named-secret", [rule([""], ["secrets"], ["get"], ["app-tls"])]),
    ("job-runner", [rule(["batch"], ["jobs", "cronjobs"], ["get", "list", "create"])]),
    ("token-reader", [rule([""], ["serviceaccounts"], ["get", "list"])]),
]

def main():
    out = sys.argv[1]
    slice_dir = sys.argv[sys.argv.index("--slice") + 1] if "--slice" in sys.argv else None
    fanout = "--fanout" in sys.argv
    nglobal = 0
    os.makedirs(out, exist_ok=True)
    namespaces = [f"tenant-{i:04d}" for i in range(N_NS)]
    emr_ns = namespaces[:N_EMR]
    users = [f"user-{i:04d}" for i in range(N_USERS)]
    groups = [f"group-{i:03d}" for i in range(N_GROUPS)]
    ns_objs, roles, bindings, croles, crbs = [], [], [], [], []
    i = 0
    # Aggregated ClusterRole families: family-k aggregates family-k-read, family-k-write and a
    # mid-level family-k-extra, which itself aggregates family-k-extra-*.
    for k in range(N_FAMILIES):
        fam = f"family-{k:02d}"
        croles.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": meta(fam, i=i),
                       "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {f"analytics.example.com/aggregate-to-{fam}": "true"}}]}, "rules": None})
        croles.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": meta(f"{fam}-read", labels={f"analytics.example.com/aggregate-to-{fam}": "true"}, i=i), "rules": READ})
        write = [rule([""], ["configmaps"], ["create", "update"])] if k % 3 == 0 else [rule(["apps"], ["deployments"], ["get"])]
        croles.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": meta(f"{fam}-write", labels={f"analytics.example.com/aggregate-to-{fam}": "true"}, i=i), "rules": write})
        croles.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": meta(f"{fam}-extra", labels={f"analytics.example.com/aggregate-to-{fam}": "true"}, i=i),
                       "aggregationRule": {"clusterRoleSelectors": [{"matchExpressions": [{"key": f"analytics.example.com/extra-{fam}", "operator": "Exists"}]}]}, "rules": None})
        croles.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": meta(f"{fam}-extra-logs", labels={f"analytics.example.com/extra-{fam}": "logs"}, i=i), "rules": [rule([""], ["pods/log"], ["get"])]})
        i += 1
    crole_names = ["view", "edit", "admin"] + [f"family-{k:02d}" for k in range(N_FAMILIES)]
    for n, ns in enumerate(namespaces):
        emr = n < N_EMR
        labels = {"kubernetes.io/metadata.name": ns, "analytics.example.com/tenant": f"t{n}"}
        ns_objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": meta(ns, labels=labels, i=n), "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        nroles = []
        if emr:
            nroles += [("emr-containers", EMR_RULES),
                       ("emr-containers-role-spark-client", [rule([""], ["pods"], ["create", "get", "list", "watch", "delete"]), rule([""], ["configmaps"], ["create", "get", "list", "watch", "delete"])]),
                       ("emr-containers-role-spark-driver", [rule([""], ["pods"], ["create", "get", "list", "watch", "delete", "deletecollection"]), rule([""], ["services"], ["get", "list", "create", "delete", "watch"])])]
        for name, rules in APP_ROLES:
            if len(nroles) < ROLES_PER_NS:
                nroles.append((name, rules))
        while len(nroles) < ROLES_PER_NS:
            nroles.append((f"custom-{len(nroles)}", READ))
        for name, rules in nroles:
            roles.append({"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": meta(name, ns, i=i), "rules": rules}); i += 1
        nb = 0
        def add(name, kind, ref, subjects):
            nonlocal nb, i
            bindings.append({"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": meta(name, ns, i=i),
                             "roleRef": {"apiGroup": RBAC, "kind": kind, "name": ref}, "subjects": subjects}); nb += 1; i += 1
        if emr:
            suffix = f"{ACCT}-{rnd.getrandbits(64):016x}"
            add("emr-containers", "Role", "emr-containers", [subj("User", "emr-containers")])
            add(f"emr-containers-rb-spark-client-{suffix}", "Role", "emr-containers-role-spark-client", [subj("ServiceAccount", f"emr-containers-sa-spark-client-{suffix}", ns)])
            add(f"emr-containers-rb-spark-driver-{suffix}", "Role", "emr-containers-role-spark-driver", [subj("ServiceAccount", f"emr-containers-sa-spark-driver-{suffix}", ns)])
        while nb < BINDINGS_PER_NS:
            nglobal += 1
            if fanout and nglobal % 50 == 0:
                ref = rnd.choice(["edit", "admin", "ci-writer"] + [f"family-{k:02d}" for k in range(0, N_FAMILIES, 3)])
                who = [rnd.choice([subj("User", rnd.choice(users)), subj("Group", rnd.choice(groups))]) for _ in range(rnd.randint(1, 3))]
                crbs.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": meta(f"crb-{ns}-{nb:02d}", i=i),
                             "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": ref}, "subjects": who})
                nb += 1; i += 1
                continue
            r = rnd.random()
            who = rnd.choice([subj("User", rnd.choice(users)), subj("Group", rnd.choice(groups)), subj("ServiceAccount", f"app-{nb % 7}", ns)])
            if r < 0.55:
                add(f"rb-{nb:02d}", "Role", rnd.choice(["app-reader", "named-secret", "token-reader"] + (["custom-9"] if not emr else [])), [who])
            elif r < 0.80:
                add(f"rb-{nb:02d}", "ClusterRole", rnd.choice(["view"] + crole_names[3:]), [who])
            elif emr and r < 0.83:
                # the ~5 % of bad grants in EMR namespaces
                add(f"rb-{nb:02d}", "Role", rnd.choice(["config-editor", "debugger", "app-deployer", "job-runner"]), [who])
            elif emr and r < 0.85:
                add(f"rb-{nb:02d}", "ClusterRole", "edit", [who])
            elif r < 0.999:
                add(f"rb-{nb:02d}", "Role", rnd.choice(["app-reader", "token-reader"]), [who, subj("Group", rnd.choice(groups))])
            else:
                add(f"rb-{nb:02d}", "Role", "missing-role", [who])
    # ClusterRoleBindings: system components, admins, and a couple of bad cluster-wide grants.
    croles.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": meta("secret-reader"), "rules": [rule([""], ["secrets"], ["get", "list"])]})
    if fanout:
        croles.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": meta("ci-writer"), "rules": [
            rule([""], ["configmaps", "pods"], ["get", "list", "create", "update", "patch"]), rule(["apps"], ["deployments"], ["create", "update", "patch"])]})
    croles.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": meta("webhook-manager"), "rules": [rule(["admissionregistration.k8s.io"], ["mutatingwebhookconfigurations"], ["create", "update", "patch"])]})
    crbs.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": meta("ops-secret-reader"), "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "secret-reader"}, "subjects": [subj("Group", "group-007"), subj("Group", "group-013")]})
    crbs.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": meta("ci-webhooks"), "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "webhook-manager"}, "subjects": [subj("Group", "group-042")]})
    for k in range(300):
        crbs.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": meta(f"view-{k:03d}"),
                     # read-only families only: cluster-wide bad grants are the two above
                     "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": rnd.choice(["view"] + [f"family-{k:02d}" for k in range(N_FAMILIES) if k % 3])},
                     "subjects": [subj("Group", rnd.choice(groups)), subj("User", rnd.choice(users))]})
    # Bootstrap roles (admin/edit/view aggregation with empty rules), from the corpus.
    corpus = os.path.join(os.path.dirname(__file__), "../../../shared/corpora/k8s-bootstrap-rbac")
    boot = []
    for f in ["cluster-roles.yaml", "cluster-role-bindings.yaml"]:
        p = os.path.join(corpus, f)
        if os.path.exists(p):
            boot.append(open(p).read())
    # Split into files of 10,000 objects, as a collector would.
    def dump(name, items):
        with open(os.path.join(out, name), "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}, f, indent=1)
    dump("kubectl-get-namespaces.json", ns_objs)
    for c in range(0, len(roles), 10000):
        dump(f"kubectl-get-roles-{c // 10000}.json", roles[c:c + 10000])
    for c in range(0, len(bindings), 10000):
        dump(f"kubectl-get-rolebindings-{c // 10000}.json", bindings[c:c + 10000])
    dump("kubectl-get-clusterroles.json", croles)
    dump("kubectl-get-clusterrolebindings.json", crbs)
    for n, text in enumerate(boot):
        open(os.path.join(out, f"bootstrap-rbac-{n}.yaml"), "w").write(text)
    vcs = [{"id": f"vc{n:022d}", "name": f"vc-{ns}", "arn": f"arn:aws:emr-containers:us-west-2:{ACCT}:/virtualclusters/vc{n:022d}", "state": "RUNNING",
            "containerProvider": {"type": "EKS", "id": "analytics-prod", "info": {"eksInfo": {"namespace": ns}}}, "createdAt": "2025-06-03T11:25:13+00:00", "tags": {}}
           for n, ns in enumerate(emr_ns)]
    json.dump({"virtualClusters": vcs}, open(os.path.join(out, "aws-emr-containers-list-virtual-clusters.json"), "w"), indent=1)
    map_roles = "".join(f"- groups:\n  - {g}\n  rolearn: arn:aws:iam::{ACCT}:role/sso-{g}\n  username: {g}:{{{{SessionName}}}}\n" for g in groups)
    map_roles += f"- rolearn: arn:aws:iam::{ACCT}:role/AWSServiceRoleForAmazonEMRContainers\n  username: emr-containers\n"
    map_users = "".join(f"- userarn: arn:aws:iam::{ACCT}:user/{u}\n  username: {u}\n" for u in users)
    json.dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("aws-auth", "kube-system"), "data": {"mapRoles": map_roles, "mapUsers": map_users}}]},
        open(os.path.join(out, "kubectl-get-configmaps-kube-system.json"), "w"), indent=1)
    for k in range(200):
        arn = f"arn:aws:iam::{ACCT}:role/submitter-{k:03d}"
        ns = emr_ns[k * 2 % N_EMR]
        json.dump({"accessEntry": {"clusterName": "analytics-prod", "principalArn": arn, "kubernetesGroups": [], "type": "STANDARD",
                                   "username": f"arn:aws:sts::{ACCT}:assumed-role/submitter-{k:03d}/{{{{SessionName}}}}"}},
                  open(os.path.join(out, f"aws-eks-describe-access-entry-submitter-{k:03d}.json"), "w"))
        json.dump({"clusterName": "analytics-prod", "principalArn": arn, "associatedAccessPolicies": [
            {"policyArn": f"arn:aws:eks::aws:cluster-access-policy/{'AmazonEKSEditPolicy' if k % 20 == 0 else 'AmazonEKSViewPolicy'}",
             "accessScope": {"type": "namespace", "namespaces": [ns]}}]},
                  open(os.path.join(out, f"aws-eks-list-associated-access-policies-submitter-{k:03d}.json"), "w"))
    print(f"{len(ns_objs)} namespaces ({len(emr_ns)} EMR), {len(roles)} Roles, {len(croles)} ClusterRoles (+ bootstrap), "
          f"{len(bindings)} RoleBindings + {len(crbs)} ClusterRoleBindings = {len(bindings) + len(crbs)} bindings, {N_USERS} users, {N_GROUPS} groups")
    if slice_dir:
        os.makedirs(slice_dir, exist_ok=True)
        part = bindings[:10000]
        wanted = {(b["metadata"]["namespace"], b["roleRef"]["name"]) for b in part if b["roleRef"]["kind"] == "Role"}
        part_roles = [r for r in roles if (r["metadata"]["namespace"], r["metadata"]["name"]) in wanted]
        import yaml  # PyYAML; only for the slice
        for c in range(0, len(part), 1000):
            with open(os.path.join(slice_dir, f"bindings-{c // 1000:02d}.yaml"), "w") as f:
                yaml.safe_dump_all(part[c:c + 1000], f, sort_keys=False)
        with open(os.path.join(slice_dir, "roles.yaml"), "w") as f:
            yaml.safe_dump_all(part_roles + croles, f, sort_keys=False)
        print(f"slice: {len(part)} RoleBindings, {len(part_roles)} Roles, {len(croles)} ClusterRoles in {slice_dir}")

if __name__ == "__main__":
    main()

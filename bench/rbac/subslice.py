#!/usr/bin/env python3
"""Cut the first N RoleBindings (N a multiple of 1,000) of the checkov slice written by gen.py,
with the Roles they reference and every ClusterRole, into OUT_DIR:

    python3 bench/rbac/subslice.py bench/out/rbac-slice bench/out/rbac-slice-1k 1000
"""
import os, shutil, sys
import yaml

src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out, exist_ok=True)
bindings = []
for i in range(n // 1000):
    name = f"bindings-{i:02d}.yaml"
    shutil.copy(os.path.join(src, name), os.path.join(out, name))
    bindings += list(yaml.safe_load_all(open(os.path.join(src, name))))
want = {(b["metadata"]["namespace"], b["roleRef"]["name"]) for b in bindings if b["roleRef"]["kind"] == "Role"}
roles = [r for r in yaml.safe_load_all(open(os.path.join(src, "roles.yaml")))
         if r["kind"] == "ClusterRole" or (r["metadata"].get("namespace"), r["metadata"]["name"]) in want]
with open(os.path.join(out, "roles.yaml"), "w") as f:
    yaml.safe_dump_all(roles, f, sort_keys=False)
print(f"{len(bindings)} RoleBindings, {len(roles)} Roles and ClusterRoles in {out}")

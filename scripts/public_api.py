#!/usr/bin/env python3
"""The library's public surface, from rustdoc's JSON output.

    cargo +nightly rustdoc --lib -- -Z unstable-options --output-format json
    python3 scripts/public_api.py target/doc/hyperssl.json

Prints how many items (and inherent methods) a user reaches from the crate root through public
modules and re-exports, then every public type that a reachable signature or field uses but
that no path reaches (a private module's type leaking into the API). rustc does not warn about
the second kind; run this after narrowing modules.
"""
import json
import sys


def kind(item):
    inner = item["inner"]
    return next(iter(inner)) if isinstance(inner, dict) else inner


def main(path):
    doc = json.load(open(path))
    index, root, paths = doc["index"], doc["root"], doc["paths"]
    reachable, seen, methods = set(), set(), set()

    def visit(i):
        if i in seen or str(i) not in index:
            return
        seen.add(i)
        item = index[str(i)]
        if item.get("visibility") != "public" and i != root:
            return
        k = kind(item)
        if k == "module":
            for child in item["inner"]["module"]["items"]:
                visit(child)
        elif k == "use":
            use = item["inner"]["use"]
            target = index.get(str(use.get("id")))
            if target and kind(target) == "module" and use.get("is_glob"):
                for child in target["inner"]["module"]["items"]:
                    visit(child)
            elif use.get("id") is not None:
                visit(use["id"])
        else:
            reachable.add(i)

    visit(root)

    used = {}

    def walk(node, owner):
        if isinstance(node, dict):
            resolved = node.get("resolved_path")
            if isinstance(resolved, dict) and str(resolved.get("id")) in index:
                if index[str(resolved["id"])].get("crate_id", 0) == 0:
                    used.setdefault(resolved["id"], set()).add(owner)
            for value in node.values():
                walk(value, owner)
        elif isinstance(node, list):
            for value in node:
                walk(value, owner)

    for i in reachable:
        item = index[str(i)]
        k = kind(item)
        inner = item["inner"][k]
        walk(inner, item.get("name"))
        if k == "struct" and isinstance(inner.get("kind"), dict):
            for field in inner["kind"].get("plain", {}).get("fields", []):
                f = index.get(str(field))
                if f and f.get("visibility") == "public":
                    walk(f["inner"], item.get("name"))
        if k == "enum":
            for variant in inner.get("variants", []):
                walk(index[str(variant)]["inner"], item.get("name"))
        for imp in inner.get("impls", []) if isinstance(inner, dict) else []:
            block = index.get(str(imp))
            if block and block["inner"]["impl"].get("trait") is None and not block["inner"]["impl"].get("is_synthetic"):
                for m in block["inner"]["impl"]["items"]:
                    member = index.get(str(m))
                    if member and member.get("visibility") == "public":
                        methods.add(m)
                        walk(member["inner"], item.get("name"))

    print(f"{len(reachable)} public items, {len(methods)} inherent methods reachable from the crate root")
    leaks = [(i, owners) for i, owners in used.items() if i not in reachable and index[str(i)].get("visibility") == "public"]
    for i, owners in sorted(leaks, key=lambda pair: str(paths.get(str(pair[0]), {}).get("path"))):
        name = "::".join(paths.get(str(i), {}).get("path") or [index[str(i)].get("name")])
        print(f"unnameable: {name}, used by {', '.join(sorted(o for o in owners if o))}")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "target/doc/hyperssl.json"))

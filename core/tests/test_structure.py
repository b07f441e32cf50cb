"""The house rules that can be read from the code (docs/ARCHITECTURE.md): every write to a model is made in
a service module; the migrations match the models. (The dependency table is import-linter's, run by
`make test`: pyproject.toml, tool.importlinter.)"""

import ast
from collections.abc import Iterator
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
APPS = ["core", "audit", "spatial", "accounts", "contracts", "publicity", "surveys", "approvals", "exchange", "imagery"]
APPS += ["nrb", "frontend_map", "demo", "config"]

# Service modules besides each app's services.py: topic modules whose functions are services (keyword-only,
# checked, audited, one transaction), and the loaders that write through COPY or for the demo.
SERVICE_MODULES = {
    "audit/services.py": "the chain itself",
    "core/bulk.py": "COPY loading (kernel)",
    "core/numbering.py": "running numbers, read under a lock (kernel)",
    "core/progress.py": "a background job's progress (kernel)",
    "accounts/identity.py": "identity checks and one-time codes",
    "contracts/filing.py": "drafts, holds, filing, certificates",
    "contracts/signing.py": "documents and signatures",
    "contracts/paper.py": "paper signing and scans",
    "contracts/pki.py": "the pilot CA and signer certificates",
    "publicity/notices.py": "notices and objections",
    "accounts/notifications.py": "the in-app inbox",
    "surveys/services.py": "tasks, uploads, 指界",
    "approvals/materials.py": "materials and decision attachments",
    "exchange/load.py": "a 确权 package into the registry (called by exchange.services)",
    "imagery/jobs.py": "imagery jobs",
    "imagery/ingest.py": "imagery ingest",
}
# Not services, and allowed to write for a stated reason.
OTHER_WRITERS = {
    "publicity/defaults.py": "the calendar's data migration (historical models)",
    "imagery/mapproxy.py": "SQL on an MBTiles (SQLite) file it writes, not the database",
}
DEMO = ("demo/",)  # the demo loaders

WRITES = {"save", "delete", "create", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}
QUERYSET_CALLS = {"objects", "_default_manager", "filter", "exclude", "all", "select_for_update", "none"}


def _chain(node: ast.AST) -> list[str]:
    """The names along an attribute/call chain: `Model.objects.filter(...).update` → [Model, objects, filter]."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            if isinstance(node, ast.Name):
                names.append(node.id)
            return names[::-1]


def _is_write(call: ast.Call) -> bool:
    if not isinstance(call.func, ast.Attribute):
        return False
    method, receiver = call.func.attr, _chain(call.func.value)
    on_queryset = bool(set(receiver) & QUERYSET_CALLS)
    if method in ("save", "delete"):  # a model's save()/delete() takes no positional argument (PIL's save does)
        return not call.args
    if method == "update":  # dict.update and hashlib's update are not writes
        return on_queryset
    if method == "execute" and call.args and isinstance(call.args[0], ast.Constant):
        sql = str(call.args[0].value).lstrip().upper()
        return sql.startswith(("INSERT", "UPDATE", "DELETE", "TRUNCATE"))
    return method in WRITES


def _modules() -> Iterator[tuple[str, ast.Module]]:
    """(path, syntax tree) of every module of the apps but their tests, migrations and demo loaders."""
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/tests/" not in rel and "/migrations/" not in rel and not rel.startswith(DEMO):
                yield rel, ast.parse(path.read_text(encoding="utf-8"))


def _writes_outside_services() -> list[str]:
    found = []
    for rel, tree in _modules():
        if rel.endswith("/services.py") or "/services/" in rel or rel in SERVICE_MODULES or rel in OTHER_WRITERS:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_write(node):
                found.append(f"{rel}:{node.lineno} {ast.unparse(node)[:80]}")
    return found


def test_no_module_outside_the_services_writes_a_model():
    assert _writes_outside_services() == []


def test_the_scan_finds_a_write_where_one_is_made():
    """The rule above can fail: each kind of write is recognised, and what is not a write is not."""
    writes = [
        "Notification.objects.create(recipient=u)",
        "Notification.objects.filter(pk=1).update(read_at=now)",
        "row.save(update_fields=['used_at'])",
        "qs.filter(x=1).delete()",
        "Model.objects.bulk_create(rows)",
        "cursor.execute('UPDATE spatial_parcel SET dkmc = %s', [x])",
    ]
    not_writes = ["params.update(zip(a, b))", "digest.update(chunk)", "image.save(out)", "d.get(k)"]
    for text, expected in [(w, True) for w in writes] + [(n, False) for n in not_writes]:
        call = ast.parse(text).body[0].value  # type: ignore[attr-defined]
        assert _is_write(call) is expected, text


def test_every_service_module_named_exists():
    assert [m for m in [*SERVICE_MODULES, *OTHER_WRITERS] if not (ROOT / m).exists()] == []


def test_the_migrations_match_the_models(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def _atomic(fn: ast.FunctionDef) -> bool:
    """Decorated with transaction.atomic, or opening `with transaction.atomic()` itself."""
    for d in fn.decorator_list:
        if "atomic" in ast.unparse(d):
            return True
    return any(
        isinstance(node, ast.With) and any("atomic" in ast.unparse(item.context_expr) for item in node.items)
        for node in ast.walk(fn)
    )


def _audited_outside_a_transaction() -> list[str]:
    """Public functions that write an audit event without a transaction of their own. Under a test's own
    transaction they pass; on a real server audit.record refuses to run outside one (a 500)."""
    found = []
    for rel, tree in _modules():
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            audits = any(
                isinstance(c, ast.Call) and ast.unparse(c.func) in ("audit.record", "record") for c in ast.walk(node)
            )
            if audits and not _atomic(node):
                found.append(f"{rel}:{node.lineno} {node.name}")
    return found


def test_every_audited_service_runs_in_its_own_transaction():
    assert _audited_outside_a_transaction() == []

"""Static checks of the infrastructure as code (infra/**/*.bicep).

There is no Bicep compiler here, so the templates are parsed with pycep and compared with the
declarations they must follow: the Cosmos containers of declarations/cosmos.json, the app settings of
core.settings.SETTINGS (read at test time), the roles of the Function App's identity, and the rules for
outputs, parameters and parameter files. The last test runs checkov through scripts/checkov.sh.

pycep's expression trees do not keep Bicep's operator precedence (``a.b == c`` can come back as
``a.(b == c)``), so expressions are compared through :func:`render`, a compact text form, rather than
through their tree shape.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, cast

import pytest
from pycep import BicepParser

from core.settings import SETTINGS, SettingKind

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = INFRA / "main.bicep"
MODULES = INFRA / "modules"
DECLARATION = ROOT / "declarations" / "cosmos.json"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
PARAMETER_FILES = [INFRA / "dev.bicepparam", INFRA / "prod.bicepparam"]

# Settings the code reads only locally, as core/settings.py declares them (local_only=True): in Azure the
# managed identity replaces them (COSMOS_KEY stays empty, AzureWebJobsStorage__accountName replaces the
# Storage connection string, the Key Vault secret versions replace SIGNING_KEYS). docs/operations.md must
# explain each one, and the Bicep must not give them a value.
LOCAL_ONLY_SETTINGS = frozenset(s.name for s in SETTINGS if s.local_only)

# Settings Flex Consumption rejects or ignores: the runtime comes from functionAppConfig, the package
# from the deployment container, and there is no Azure Files share.
FLEX_FORBIDDEN_SETTINGS = frozenset(
    {
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_EXTENSION_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
        "WEBSITE_CONTENTSHARE",
        "AzureWebJobsStorage",
    }
)

# Built-in role definitions the Function App's identity needs.
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
COSMOS_DATA_CONTRIBUTOR = "00000000-0000-0000-0000-000000000002"
REQUIRED_AZURE_ROLES = {
    STORAGE_BLOB_DATA_OWNER: "storageAccount",
    STORAGE_QUEUE_DATA_CONTRIBUTOR: "storageAccount",
    KEY_VAULT_SECRETS_USER: "vault",
    MONITORING_METRICS_PUBLISHER: "appInsights",
}

SECRET_OUTPUT_NAME = re.compile(r"key|secret|password|connectionstring|token|sas\b|credential", re.IGNORECASE)
SECRET_OUTPUT_VALUE = re.compile(
    r"list\w*keys|listconnectionstrings|listsecrets|listaccountsas|listservicesas|getsecret|"
    r"connectionstring|instrumentationkey|primarykey|secondarykey|masterkey|password",
    re.IGNORECASE,
)
KEY_VAULT_REFERENCE = re.compile(
    r"^@Microsoft\.KeyVault\(VaultName=\$\{(?P<vault>\w+)\};SecretName=(?P<secret>[\w-]+)\)$"
)
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# ---------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------


@cache
def parse(path: Path) -> dict[str, Any]:
    return cast(dict[str, Any], BicepParser().parse(file_path=path))


def module(name: str) -> dict[str, Any]:
    return parse(MODULES / f"{name}.bicep")


def render(node: Any) -> str:
    """A compact text form of a parsed expression: identifiers, literals, ``a.b``, ``f(x, y)``."""
    if node is None:
        return "null"
    if isinstance(node, bool):
        return str(node).lower()
    if isinstance(node, int | str):
        return str(node)
    if isinstance(node, list):
        return "[" + ", ".join(render(item) for item in node) + "]"
    if isinstance(node, dict):
        if set(node) == {"operator"}:
            kind = node["operator"]["type"]
            operands = list(node["operator"]["operands"].values())
            if kind == "property_accessor":
                return f"{render(operands[0])}.{render(operands[1])}"
            if kind == "index_accessor":
                return f"{render(operands[0])}[{render(operands[1])}]"
            return f"{kind}(" + ", ".join(render(o) for o in operands) + ")"
        if set(node) == {"function"}:
            function = node["function"]
            return f"{function['type']}(" + ", ".join(render(p) for p in function["parameters"].values()) + ")"
        return "{" + ", ".join(f"{key}: {render(value)}" for key, value in node.items()) + "}"
    return repr(node)


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every object node of a parsed subtree, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def operator_operands(node: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    operator = node.get("operator")
    if isinstance(operator, dict) and operator.get("type") == kind:
        return cast(dict[str, Any], operator["operands"])
    return None


def resource_body(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The resource's object, whether it is plain, conditional (``if``) or a loop (``for``)."""
    config = cast(dict[str, Any], resource["config"])
    if "loop_type" in config or ("condition" in config and "config" in config):
        return cast(dict[str, Any], config["config"])
    return config


def resources_of_type(tree: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in tree.get("resources", {}).items()
        if resource["type"].lower() == resource_type.lower()
    }


def dig(node: Mapping[str, Any], dotted: str) -> Any:
    value: Any = node
    for key in dotted.split("."):
        value = value[key]
    return value


def description(decorators: list[dict[str, Any]]) -> str:
    texts = [str(d.get("argument") or "") for d in decorators if d.get("type") == "description"]
    return texts[0].strip() if texts else ""


def declaration() -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(DECLARATION.read_text(encoding="utf-8")))


def app_settings() -> dict[str, Any]:
    """The properties of the one Microsoft.Web/sites/config 'appsettings' resource of the templates."""
    found = [
        resource_body(resource)["properties"]
        for path in BICEP_FILES
        for resource in resources_of_type(parse(path), "Microsoft.Web/sites/config").values()
        if resource_body(resource).get("name") == "appsettings"
    ]
    assert len(found) == 1, f"expected one sites/config 'appsettings' resource, found {len(found)}"
    return cast(dict[str, Any], found[0])


def secret_name(setting: str) -> str:
    return setting.lower().replace("_", "-")


# ---------------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------------


def test_the_templates_exist() -> None:
    assert MAIN in BICEP_FILES
    assert {p.stem for p in MODULES.glob("*.bicep")} >= {
        "functionapp",
        "appsettings",
        "storage",
        "cosmos",
        "keyvault",
        "monitoring",
        "alerts",
        "roles",
    }


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_template_parses(path: Path) -> None:
    tree = parse(path)
    assert tree.get("resources") or tree.get("modules"), f"{path} declares nothing"


def test_main_targets_a_resource_group_and_uses_every_module() -> None:
    tree = parse(MAIN)
    assert tree["globals"]["scope"]["value"] == "resourceGroup"
    used = {m["detail"]["path"] for m in tree["modules"].values()}
    assert used == {f"modules/{p.name}" for p in MODULES.glob("*.bicep")}


# ---------------------------------------------------------------------------------------------------
# Cosmos DB containers come from declarations/cosmos.json
# ---------------------------------------------------------------------------------------------------


def declaration_variable(tree: Mapping[str, Any], path: Path) -> str:
    loaded = [
        (name, var["value"]["function"]["parameters"]["file_path"])
        for name, var in tree.get("variables", {}).items()
        if isinstance(var.get("value"), dict) and var["value"].get("function", {}).get("type") == "load_json_content"
    ]
    assert len(loaded) == 1, f"{path.name} should load the declaration once with loadJsonContent"
    name, relative = loaded[0]
    assert (path.parent / relative).resolve() == DECLARATION.resolve(), relative
    return cast(str, name)


def test_database_and_containers_are_created_from_the_declaration() -> None:
    path = MODULES / "cosmos.bicep"
    tree = parse(path)
    decl = declaration_variable(tree, path)

    (database,) = resources_of_type(tree, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases").values()
    database_name = render(resource_body(database)["name"])
    assert database_name == f"{decl}.database" or render(tree["variables"][database_name]["value"]) == (
        f"{decl}.database"
    )

    (containers,) = resources_of_type(tree, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers").values()
    loop = containers["config"].get("loop_type")
    assert loop is not None, "the containers must be created with a for loop over the declaration"
    assert render(loop["detail"]["array_name"]) == f"{decl}.containers"
    item = loop["detail"]["item_name"]

    body = resource_body(containers)
    assert render(body["name"]) == f"{item}.id"
    resource = body["properties"]["resource"]
    rendered = render(resource)
    for field in (
        f"{item}.id",
        f"{item}.partitionKey",
        f"{item}.indexing.includedPaths",
        f"{item}.indexing.excludedPaths",
        f"{item}.defaultTtl",
    ):
        assert field in rendered, f"the container resource does not read {field} from the declaration"
    partition_paths = next(node for node in walk(resource) if "partitionKey" in node)["partitionKey"]["paths"]
    assert [render(p) for p in partition_paths] == [f"{item}.partitionKey"]


def test_default_ttl_is_set_only_when_the_declaration_gives_one() -> None:
    tree = module("cosmos")
    (containers,) = resources_of_type(tree, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers").values()
    resource = resource_body(containers)["properties"]["resource"]
    assert resource["function"]["type"] == "union"
    always, *_ = resource["function"]["parameters"].values()
    assert "defaultTtl" not in always, "defaultTtl must not be set unconditionally (null means TTL off)"

    branches = [
        operands
        for node in walk(resource)
        if (operands := operator_operands(node, "conditional")) is not None
        and isinstance(operands["false_value"], dict)
        and "defaultTtl" in operands["false_value"]
    ]
    assert len(branches) == 1, "defaultTtl must come from one null-guarded conditional"
    (branch,) = branches
    assert branch["true_value"] == {}
    assert "defaultTtl" in render(branch["condition"])
    assert "null" in render(branch["condition"])
    assert "defaultTtl" in render(branch["false_value"]["defaultTtl"])


def string_leaves(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from string_leaves(value)
    elif isinstance(node, list):
        for item in node:
            yield from string_leaves(item)


def test_no_container_id_is_hard_coded() -> None:
    """No Cosmos DB resource, variable, parameter or output names a declared container itself."""
    ids = {c["id"] for c in declaration()["containers"]}
    for path in BICEP_FILES:
        tree = parse(path)
        cosmos_resources = [
            r for r in tree.get("resources", {}).values() if r["type"].startswith("Microsoft.DocumentDB/")
        ]
        checked = [cosmos_resources, tree.get("variables", {}), tree.get("parameters", {}), tree.get("outputs", {})]
        for module_call in tree.get("modules", {}).values():
            checked.append(module_call["config"].get("params", {}))
        hard_coded = ids & set(string_leaves(checked))
        assert not hard_coded, f"{path.name} hard-codes container ids {sorted(hard_coded)}"


def test_the_declaration_has_what_the_bicep_reads() -> None:
    decl = declaration()
    assert isinstance(decl["database"], str)
    assert decl["database"]
    assert decl["containers"]
    for container in decl["containers"]:
        assert isinstance(container["id"], str)
        assert container["id"]
        assert container["partitionKey"].startswith("/")
        assert "defaultTtl" in container
        ttl = container["defaultTtl"]
        assert ttl is None or (isinstance(ttl, int) and (ttl == -1 or ttl > 0)), container["id"]
        assert isinstance(container["indexing"]["includedPaths"], list)
        assert isinstance(container["indexing"]["excludedPaths"], list)


# ---------------------------------------------------------------------------------------------------
# App settings follow core.settings.SETTINGS
# ---------------------------------------------------------------------------------------------------


def test_every_setting_the_code_reads_is_set_on_the_function_app() -> None:
    settings = app_settings()
    missing = [s.name for s in SETTINGS if s.name not in LOCAL_ONLY_SETTINGS and s.name not in settings]
    assert not missing, f"app settings missing from infra/modules/appsettings.bicep: {missing}"
    assert {"APPLICATIONINSIGHTS_CONNECTION_STRING", "AzureWebJobsStorage__accountName"} <= set(settings)


def test_local_only_settings_are_not_given_a_value_in_azure() -> None:
    settings = app_settings()
    assert {"COSMOS_KEY", "AzureWebJobsStorage"} <= LOCAL_ONLY_SETTINGS
    for name in LOCAL_ONLY_SETTINGS:
        assert settings.get(name, "") == "", f"{name} is local-only and must not be set in Azure"


def test_secret_settings_are_key_vault_references() -> None:
    settings = app_settings()
    params = parse(MODULES / "appsettings.bicep")["parameters"]
    for setting in SETTINGS:
        if setting.kind is not SettingKind.SECRET or setting.name in LOCAL_ONLY_SETTINGS:
            continue
        value = settings[setting.name]
        assert isinstance(value, str), f"{setting.name} must be a Key Vault reference string"
        match = KEY_VAULT_REFERENCE.match(value)
        assert match, f"{setting.name} is not a Key Vault reference: {value!r}"
        assert match["vault"] in params
        assert match["secret"] == secret_name(setting.name)


def test_plain_settings_are_not_key_vault_references_and_flex_settings_are_absent() -> None:
    settings = app_settings()
    for setting in SETTINGS:
        if setting.kind is SettingKind.PLAIN and setting.name in settings:
            assert "@Microsoft.KeyVault" not in render(settings[setting.name]), setting.name
    assert not FLEX_FORBIDDEN_SETTINGS & set(settings)


def test_app_settings_wait_for_the_role_assignments() -> None:
    modules = parse(MAIN)["modules"]
    (app_settings_module,) = [m for m in modules.values() if m["detail"]["path"] == "modules/appsettings.bicep"]
    (roles_name,) = [name for name, m in modules.items() if m["detail"]["path"] == "modules/roles.bicep"]
    assert roles_name in render(app_settings_module["config"].get("dependsOn", []))


def test_operations_guide_documents_secrets_and_local_only_settings() -> None:
    text = OPERATIONS_DOC.read_text(encoding="utf-8")
    for setting in SETTINGS:
        if setting.name in LOCAL_ONLY_SETTINGS:
            assert setting.name in text, f"docs/operations.md does not explain local-only {setting.name}"
        elif setting.kind is SettingKind.SECRET:
            assert f"--name {secret_name(setting.name)}" in text, f"no 'az keyvault secret set' for {setting.name}"


# ---------------------------------------------------------------------------------------------------
# Role assignments of the Function App's identity
# ---------------------------------------------------------------------------------------------------


def role_ids(tree: Mapping[str, Any]) -> dict[str, str]:
    """Dotted variable paths (``roleIds.storageBlobDataOwner``) of the role GUIDs declared in variables."""
    found: dict[str, str] = {}
    for name, variable in tree.get("variables", {}).items():
        value = variable["value"]
        if isinstance(value, str) and GUID.fullmatch(value):
            found[name] = value
        elif isinstance(value, dict) and "operator" not in value and "function" not in value:
            found.update({f"{name}.{k}": v for k, v in value.items() if isinstance(v, str) and GUID.fullmatch(v)})
    return found


def resolve_guids(expression: str, variables: Mapping[str, str]) -> set[str]:
    guids = set(GUID.findall(expression))
    guids.update(guid for path, guid in variables.items() if re.search(rf"(?<![\w.]){re.escape(path)}\b", expression))
    return guids


def test_the_function_app_identity_gets_the_required_roles() -> None:
    tree = module("roles")
    variables = role_ids(tree)
    assigned: dict[str, str] = {}
    for resource in resources_of_type(tree, "Microsoft.Authorization/roleAssignments").values():
        body = resource_body(resource)
        assert render(body["properties"]["principalId"]) == "principalId"
        assert body["properties"]["principalType"] == "ServicePrincipal"
        name = body["name"]
        assert name["function"]["type"] == "guid", "role assignment names must be guid()s"
        assert "principalId" in render(name)
        for guid in resolve_guids(render(body["properties"]["roleDefinitionId"]), variables):
            assigned[guid] = render(body["scope"])
    for guid, scope in REQUIRED_AZURE_ROLES.items():
        assert guid in assigned, f"role {guid} is not assigned to the Function App identity"
        assert assigned[guid] == scope, f"role {guid} should be scoped to {scope}, not {assigned[guid]}"


def test_the_function_app_identity_gets_cosmos_data_contributor_on_the_database() -> None:
    tree = module("roles")
    (assignment,) = resources_of_type(tree, "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments").values()
    body = resource_body(assignment)
    properties = body["properties"]
    assert COSMOS_DATA_CONTRIBUTOR in resolve_guids(render(properties["roleDefinitionId"]), role_ids(tree))
    assert "/sqlRoleDefinitions/" in render(properties["roleDefinitionId"])
    assert render(properties["principalId"]) == "principalId"
    assert re.search(r"/dbs/\$\{\w+\}$", render(properties["scope"])), "scope must be the database"
    assert body["name"]["function"]["type"] == "guid"


def test_main_passes_the_function_app_identity_to_the_roles() -> None:
    tree = parse(MAIN)
    (roles,) = [m for m in tree["modules"].values() if m["detail"]["path"] == "modules/roles.bicep"]
    (function_app_name,) = [
        name for name, m in tree["modules"].items() if m["detail"]["path"] == "modules/functionapp.bicep"
    ]
    assert render(roles["config"]["params"]["principalId"]) == f"{function_app_name}.outputs.principalId"
    app = module("functionapp")
    assert render(app["outputs"]["principalId"]["value"]) == "site.identity.principalId"
    (site,) = resources_of_type(app, "Microsoft.Web/sites").values()
    assert resource_body(site)["identity"]["type"] == "SystemAssigned"


# ---------------------------------------------------------------------------------------------------
# Secure settings of the resources
# ---------------------------------------------------------------------------------------------------

EXPECTED_PROPERTIES: list[tuple[str, str, str, Any]] = [
    ("functionapp", "Microsoft.Web/serverfarms", "sku.name", "FC1"),
    ("functionapp", "Microsoft.Web/serverfarms", "sku.tier", "FlexConsumption"),
    ("functionapp", "Microsoft.Web/serverfarms", "properties.reserved", True),
    ("functionapp", "Microsoft.Web/sites", "kind", "functionapp,linux"),
    ("functionapp", "Microsoft.Web/sites", "properties.httpsOnly", True),
    ("functionapp", "Microsoft.Web/sites", "properties.siteConfig.minTlsVersion", "1.2"),
    ("functionapp", "Microsoft.Web/sites", "properties.siteConfig.ftpsState", "Disabled"),
    ("functionapp", "Microsoft.Web/sites", "properties.functionAppConfig.runtime.name", "python"),
    ("functionapp", "Microsoft.Web/sites", "properties.functionAppConfig.runtime.version", "3.11"),
    (
        "functionapp",
        "Microsoft.Web/sites",
        "properties.functionAppConfig.deployment.storage.authentication.type",
        "SystemAssignedIdentity",
    ),
    ("storage", "Microsoft.Storage/storageAccounts", "kind", "StorageV2"),
    ("storage", "Microsoft.Storage/storageAccounts", "properties.minimumTlsVersion", "TLS1_2"),
    ("storage", "Microsoft.Storage/storageAccounts", "properties.allowBlobPublicAccess", False),
    ("storage", "Microsoft.Storage/storageAccounts", "properties.allowSharedKeyAccess", False),
    ("storage", "Microsoft.Storage/storageAccounts", "properties.supportsHttpsTrafficOnly", True),
    ("cosmos", "Microsoft.DocumentDB/databaseAccounts", "properties.disableLocalAuth", True),
    ("cosmos", "Microsoft.DocumentDB/databaseAccounts", "properties.minimalTlsVersion", "Tls12"),
    ("cosmos", "Microsoft.DocumentDB/databaseAccounts", "properties.backupPolicy.type", "Continuous"),
    ("keyvault", "Microsoft.KeyVault/vaults", "properties.enableRbacAuthorization", True),
    ("keyvault", "Microsoft.KeyVault/vaults", "properties.enableSoftDelete", True),
    ("keyvault", "Microsoft.KeyVault/vaults", "properties.enablePurgeProtection", True),
    ("monitoring", "Microsoft.Insights/components", "properties.IngestionMode", "LogAnalytics"),
]


@pytest.mark.parametrize(
    ("module_name", "resource_type", "path", "expected"),
    EXPECTED_PROPERTIES,
    ids=[f"{m}:{p}" for m, _, p, _ in EXPECTED_PROPERTIES],
)
def test_resource_property(module_name: str, resource_type: str, path: str, expected: Any) -> None:
    (resource,) = resources_of_type(module(module_name), resource_type).values()
    assert dig(resource_body(resource), path) == expected


def test_basic_publishing_credentials_are_disabled() -> None:
    policies = resources_of_type(module("functionapp"), "Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    bodies = [resource_body(r) for r in policies.values()]
    assert {b["name"] for b in bodies} == {"ftp", "scm"}
    assert all(b["properties"]["allow"] is False for b in bodies)


def test_queues_get_poison_queues_and_exports_expire() -> None:
    main = MAIN.read_text()
    assert "loadJsonContent('../declarations/storage.json')" in main
    assert "queues: union(declaredQueues, extraQueues)" in main
    assert parse(MAIN)["variables"]["declaredQueues"]
    tree = module("storage")
    poison = tree["variables"]["poisonQueues"]["value"]
    assert "-poison" in render(poison["config"])
    assert render(poison["loop_type"]["detail"]["array_name"]) == "queues"
    (queues,) = resources_of_type(tree, "Microsoft.Storage/storageAccounts/queueServices/queues").values()
    assert render(queues["config"]["loop_type"]["detail"]["array_name"]) == "allQueues"
    (policy,) = resources_of_type(tree, "Microsoft.Storage/storageAccounts/managementPolicies").values()
    (rule,) = resource_body(policy)["properties"]["policy"]["rules"]
    assert render(rule["definition"]["filters"]["prefixMatch"]) == "[${exportsContainerName}/]"
    delete = rule["definition"]["actions"]["baseBlob"]["delete"]
    assert render(delete) == "{daysAfterCreationGreaterThan: exportRetentionDays}"
    assert parse(MAIN)["parameters"]["exportRetentionDays"]["default"] == 7


def test_the_exports_lifecycle_rule_deletes_only_archives_no_legal_hold_covers() -> None:
    """A held archive's tag says so (adapters/blob_archives.py); the rule matches only the free value,
    both read from declarations/storage.json."""
    (policy,) = resources_of_type(module("storage"), "Microsoft.Storage/storageAccounts/managementPolicies").values()
    (rule,) = resource_body(policy)["properties"]["policy"]["rules"]
    (match,) = rule["definition"]["filters"]["blobIndexMatch"]
    assert render(match) == "{name: exportsHoldTagName, op: ==, value: exportsHoldTagFree}"
    main = parse(MAIN)
    (storage,) = [m for m in main["modules"].values() if m["detail"]["path"] == "modules/storage.bicep"]
    params = storage["config"]["params"]
    assert render(params["exportsHoldTagName"]) == "exportsHoldTag.name"
    assert render(params["exportsHoldTagFree"]) == "exportsHoldTag.free"
    assert render(main["variables"]["exportsHoldTag"]["value"]) == "storageDeclaration.blobContainers[0].holdTag"
    from adapters.blob_archives import FREE, HELD, HOLD_TAG

    declared = json.loads((ROOT / "declarations" / "storage.json").read_text())["blobContainers"][0]["holdTag"]
    assert declared == {"name": HOLD_TAG, "free": FREE, "held": HELD}


def test_cosmos_ttl_is_on_only_where_the_declaration_says_it_is_safe() -> None:
    """TTL deletes silently and ignores legal holds: the Bicep sets defaultTtl exactly where the
    declaration does (checked above), and the declaration only where it says TTL is safe, which no
    container of the inventory's personal data is."""
    from functions.inventory.declaration import inventory

    with_ttl = {c["id"] for c in declaration()["containers"] if c["defaultTtl"] is not None}
    safe = {c["id"] for c in declaration()["containers"] if (c.get("ttlBackstop") or {}).get("safe")}
    assert with_ttl <= safe
    assert with_ttl == {"retention"}
    assert not with_ttl & {location.container for location in inventory().locations}


def test_alerts_cover_poison_queues_and_failed_executions() -> None:
    tree = module("alerts")
    (group,) = resources_of_type(tree, "Microsoft.Insights/actionGroups").values()
    receivers = resource_body(group)["properties"]["emailReceivers"]
    assert [render(r["emailAddress"]) for r in receivers] == ["alertEmailAddress"]
    (poison,) = resources_of_type(tree, "Microsoft.Insights/scheduledQueryRules").values()
    (criterion,) = resource_body(poison)["properties"]["criteria"]["allOf"]
    query = tree["variables"][render(criterion["query"])]["value"]
    for fragment in ("StorageQueueLogs", '"PutMessage"', '"-poison"', "by Queue"):
        assert fragment in query
    (failures,) = resources_of_type(tree, "Microsoft.Insights/metricAlerts").values()
    (metric,) = resource_body(failures)["properties"]["criteria"]["allOf"]
    assert metric["metricName"] == "requests/failed"


# ---------------------------------------------------------------------------------------------------
# Outputs, parameters, parameter files
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_no_output_looks_like_a_secret(path: Path) -> None:
    for name, output in parse(path).get("outputs", {}).items():
        assert not SECRET_OUTPUT_NAME.search(name), f"{path.name}: output {name} looks like a secret"
        value = render(output["value"])
        assert not SECRET_OUTPUT_VALUE.search(value), f"{path.name}: output {name} = {value} looks like a secret"
        assert not any(d.get("type") == "secure" for d in output.get("decorators", []))


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_parameter_and_output_has_a_description(path: Path) -> None:
    tree = parse(path)
    for kind in ("parameters", "outputs"):
        for name, item in tree.get(kind, {}).items():
            assert description(item.get("decorators", [])), f"{path.name}: {kind[:-1]} {name} has no @description"


def bicepparam_assignments(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^param\s+(\w+)\s*=\s*(.+)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE))


@pytest.mark.parametrize("path", PARAMETER_FILES, ids=lambda p: p.name)
def test_parameter_files_use_main_and_set_every_required_parameter(path: Path) -> None:
    assert path.is_file(), f"{path} is missing"
    code = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("//")]
    assert code[0] == "using 'main.bicep'"
    assigned = bicepparam_assignments(path)
    declared = parse(MAIN)["parameters"]
    assert set(assigned) <= set(declared), f"unknown parameters: {set(assigned) - set(declared)}"
    required = {name for name, param in declared.items() if param.get("default") is None}
    assert required <= set(assigned), f"{path.name} leaves required parameters unset: {required - set(assigned)}"
    assert assigned["environmentName"] == f"'{path.stem}'"


# ---------------------------------------------------------------------------------------------------
# Scripts and checkov
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("script", ["deploy.sh", "checkov.sh", "schemathesis.sh"])
def test_scripts_are_strict_bash(script: str) -> None:
    path = ROOT / "scripts" / script
    assert "set -euo pipefail" in path.read_text(encoding="utf-8")
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_checkov_passes() -> None:
    """Runs checkov (bicep framework, skips in .checkov.yaml); creates .venv-checkov on the first run."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "checkov.sh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "failed=0" in output
    assert "parsing_errors=0" in output

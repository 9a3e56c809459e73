#!/usr/bin/env bash
# Deploys one environment of the privacy backend to Azure: infrastructure (infra/main.bicep with
# infra/<env>.bicepparam), then the code (the Function App package), then a smoke test of /api/health and /api/openapi.json.
#
# What is deployed is always a git commit (HEAD by default), checked out into a temporary worktree:
# uncommitted changes are never deployed, and every deployment is named after its commit, which is
# what --rollback uses. docs/operations.md is the operator's guide.
#
# Usage:
#   scripts/deploy.sh --env dev|prod --resource-group NAME [--location REGION] [options]
#
# Options:
#   -e, --env ENV              dev or prod (or DEPLOY_ENV)
#   -g, --resource-group NAME  resource group (or DEPLOY_RESOURCE_GROUP); created when missing
#   -l, --location REGION      region for a new resource group (or DEPLOY_LOCATION); must offer
#                              the Flex Consumption plan
#       --ref GIT_REF          commit, tag or branch to deploy (default HEAD)
#       --rollback             redeploy the commit of the previous successful deployment of this
#                              environment (infrastructure and code), see docs/operations.md
#       --skip-infra           publish the code only (no what-if, no template deployment)
#       --skip-code            deploy the infrastructure only
#   -y, --yes                  do not ask before deploying (what-if still runs and is printed)
#   -h, --help                 this text
#
# The parameter files read USER_JWT_ISSUER, USER_JWT_AUDIENCE, USER_JWKS_URI, STAFF_JWT_AUDIENCE and
# ALERT_EMAIL_ADDRESS (required) and CORS_ALLOWED_ORIGINS, KEY_VAULT_SECRETS_OFFICER_ID (optional) from
# the environment.
set -euo pipefail

readonly DEPLOYMENT_PREFIX="privacy"
readonly REQUIRED_PARAMETER_VARIABLES=(USER_JWT_ISSUER USER_JWT_AUDIENCE USER_JWKS_URI STAFF_JWT_AUDIENCE ALERT_EMAIL_ADDRESS)
readonly HEALTH_ATTEMPTS=30
readonly HEALTH_INTERVAL_SECONDS=${DEPLOY_HEALTH_INTERVAL:-10}

env_name="${DEPLOY_ENV:-}"
resource_group="${DEPLOY_RESOURCE_GROUP:-}"
location="${DEPLOY_LOCATION:-}"
git_ref="HEAD"
rollback=false
skip_infra=false
skip_code=false
assume_yes=false

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

while (($#)); do
  case "$1" in
    -e | --env) env_name="${2:-}"; shift 2 ;;
    -g | --resource-group) resource_group="${2:-}"; shift 2 ;;
    -l | --location) location="${2:-}"; shift 2 ;;
    --ref) git_ref="${2:-}"; shift 2 ;;
    --rollback) rollback=true; shift ;;
    --skip-infra) skip_infra=true; shift ;;
    --skip-code) skip_code=true; shift ;;
    -y | --yes) assume_yes=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ "$env_name" == "dev" || "$env_name" == "prod" ]] || die "--env must be dev or prod"
[[ -n "$resource_group" ]] || die "--resource-group is required"
! { $skip_infra && $skip_code; } || die "--skip-infra and --skip-code leave nothing to do"
! { $rollback && [[ "$git_ref" != "HEAD" ]]; } || die "--rollback and --ref exclude each other"
! { $rollback && { $skip_infra || $skip_code; }; } || die "--rollback redeploys infrastructure and code together"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# --- Tools and sign-in ------------------------------------------------------------------------------

command -v az >/dev/null || die "the Azure CLI (az) is not installed: https://learn.microsoft.com/cli/azure/install-azure-cli"
command -v git >/dev/null || die "git is not installed"
command -v curl >/dev/null || die "curl is not installed"
az account show --output none 2>/dev/null || die "not signed in to Azure: run 'az login' (and 'az account set --subscription ...')"
if ! $skip_infra; then
  az bicep version >/dev/null 2>&1 || die "the Bicep CLI is missing: run 'az bicep install'"
fi
subscription="$(az account show --query '[name, id]' --output tsv | paste -sd ' ')"
log "subscription: $subscription"

confirm() {
  local question="$1" answer
  if $assume_yes; then return 0; fi
  [[ -t 0 ]] || die "no terminal to confirm on: re-run with --yes"
  read -r -p "$question [y/N] " answer
  [[ "$answer" == "y" || "$answer" == "Y" || "$answer" == "yes" ]]
}

# --- Which commit -----------------------------------------------------------------------------------

# Successful top-level deployments of this environment, oldest first, are named
# <prefix>-<env>-<12-hex commit>-<UTC timestamp>; module deployments have other names.
deployment_history() {
  az deployment group list --resource-group "$resource_group" \
    --query "sort_by([?starts_with(name, '${DEPLOYMENT_PREFIX}-${env_name}-') && properties.provisioningState == 'Succeeded'], &properties.timestamp)[].name" \
    --output tsv 2>/dev/null | grep -E "^${DEPLOYMENT_PREFIX}-${env_name}-[0-9a-f]{12}-[0-9]{14}\$" || true
}

commit_of_deployment() { cut -d- -f3 <<<"$1"; }

if $rollback; then
  az group exists --name "$resource_group" | grep -qx true || die "resource group $resource_group does not exist: nothing to roll back"
  mapfile -t history < <(deployment_history)
  ((${#history[@]})) || die "no successful ${env_name} deployment recorded in $resource_group"
  current="$(commit_of_deployment "${history[-1]}")"
  previous=""
  for ((i = ${#history[@]} - 2; i >= 0; i--)); do
    candidate="$(commit_of_deployment "${history[i]}")"
    if [[ "$candidate" != "$current" ]]; then previous="$candidate"; break; fi
  done
  [[ -n "$previous" ]] || die "no earlier deployment with another commit than $current: use --ref to choose one"
  log "rollback: current deployment is commit $current, previous is $previous"
  git_ref="$previous"
fi

commit="$(git -C "$repo_root" rev-parse --verify --quiet "${git_ref}^{commit}")" \
  || die "unknown git ref '$git_ref' (run 'git fetch' if it is a commit of another clone)"
short_commit="${commit:0:12}"
if [[ "$git_ref" == "HEAD" && -n "$(git -C "$repo_root" status --porcelain --untracked-files=no)" ]]; then
  warn "the work tree has uncommitted changes; they are NOT deployed (deploying commit $short_commit)"
fi
log "deploying commit $short_commit ($(git -C "$repo_root" log -1 --format=%s "$commit")) to $env_name"

work_dir="$(mktemp -d)"
source_dir="$work_dir/source"
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  git -C "$repo_root" worktree remove --force "$source_dir" >/dev/null 2>&1 || true
  rm -rf "$work_dir"
}
trap cleanup EXIT
git -C "$repo_root" worktree add --detach --quiet "$source_dir" "$commit"

# --- Infrastructure ---------------------------------------------------------------------------------

if ! $skip_infra; then
  missing=()
  for variable in "${REQUIRED_PARAMETER_VARIABLES[@]}"; do
    [[ -n "${!variable:-}" ]] || missing+=("$variable")
  done
  ((${#missing[@]} == 0)) || die "set these environment variables for infra/${env_name}.bicepparam: ${missing[*]}"

  if [[ "$(az group exists --name "$resource_group")" != "true" ]]; then
    [[ -n "$location" ]] || die "resource group $resource_group does not exist: pass --location to create it"
    confirm "Create resource group $resource_group in $location?" || die "cancelled"
    az group create --name "$resource_group" --location "$location" \
      --tags application=privacy-backend "environment=$env_name" --output none
    log "created resource group $resource_group"
  fi

  parameters_file="$source_dir/infra/${env_name}.bicepparam"
  [[ -f "$parameters_file" ]] || die "commit $short_commit has no infra/${env_name}.bicepparam"
  deployment_name="${DEPLOYMENT_PREFIX}-${env_name}-${short_commit}-$(date -u +%Y%m%d%H%M%S)"

  log "what-if of $deployment_name"
  az deployment group what-if --resource-group "$resource_group" --name "$deployment_name" \
    --parameters "$parameters_file"
  confirm "Deploy these changes to $resource_group ($env_name)?" || die "cancelled"

  # --rollback-on-error: if this deployment fails, Resource Manager redeploys the last successful one.
  log "deploying $deployment_name"
  az deployment group create --resource-group "$resource_group" --name "$deployment_name" \
    --parameters "$parameters_file" --rollback-on-error --output none
  function_app="$(az deployment group show --resource-group "$resource_group" --name "$deployment_name" \
    --query properties.outputs.functionAppName.value --output tsv)"
else
  function_app="$(az resource list --resource-group "$resource_group" --resource-type Microsoft.Web/sites \
    --query "[?tags.environment == '${env_name}'].name | [0]" --output tsv)"
  [[ -n "$function_app" ]] || die "no ${env_name} Function App in $resource_group: deploy the infrastructure first"
fi
log "Function App: $function_app"
echo "$function_app"

app_id="$(az functionapp show --resource-group "$resource_group" --name "$function_app" --query id --output tsv)"
host_name="$(az functionapp show --resource-group "$resource_group" --name "$function_app" --query defaultHostName --output tsv)"

# Re-read the Key Vault references now (the platform otherwise refreshes them within 24 hours) and list
# any that do not resolve: usually a secret that was not put into the vault yet (docs/operations.md).
az rest --method post --output none \
  --url "https://management.azure.com${app_id}/config/configreferences/appsettings/refresh?api-version=2022-03-01" \
  || warn "could not refresh the Key Vault references"
unresolved="$(az rest --method get \
  --url "https://management.azure.com${app_id}/config/configreferences/appsettings?api-version=2022-03-01" \
  --query "value[?properties.status != 'Resolved'].[name, properties.status, properties.secretName]" \
  --output tsv 2>/dev/null || true)"
if [[ -n "$unresolved" ]]; then
  warn "Key Vault references that do not resolve (setting, status, secret):"
  printf '    %s\n' "$unresolved" >&2
  warn "put the secrets in with 'az keyvault secret set' (docs/operations.md), then run this script again"
fi

# The signing key ring is read by the app itself (not a reference): check that its secret exists. This
# needs read access to the vault for the operator; without it the check only warns.
signing_secret="$(az functionapp config appsettings list --resource-group "$resource_group" --name "$function_app" \
  --query "[?name == 'SIGNING_KEY_SECRET_NAME'].value | [0]" --output tsv 2>/dev/null || true)"
vault_name="$(az keyvault list --resource-group "$resource_group" --query "[0].name" --output tsv 2>/dev/null || true)"
if [[ -n "$signing_secret" && -n "$vault_name" ]] \
  && ! az keyvault secret show --vault-name "$vault_name" --name "$signing_secret" --output none 2>/dev/null; then
  warn "Key Vault secret '$signing_secret' (the signing key ring) is missing from $vault_name, or you cannot read it:"
  warn "create it as docs/operations.md describes"
fi

# --- Code -------------------------------------------------------------------------------------------

if ! $skip_code; then
  [[ -f "$source_dir/requirements.txt" && -f "$source_dir/host.json" ]] \
    || die "commit $short_commit has no requirements.txt and host.json at the root: nothing to publish"
  if command -v func >/dev/null; then
    log "publishing with Azure Functions Core Tools (remote build)"
    (cd "$source_dir" && func azure functionapp publish "$function_app" --python)
  else
    log "Core Tools not found: publishing a zip package with the Azure CLI (remote build)"
    package="$work_dir/package.zip"
    # The package holds what the Functions host runs: code, host.json and requirements.txt (the
    # remote build installs them). Tests, infrastructure, docs and local tooling stay out.
    git -C "$repo_root" archive --format=zip --output "$package" "$commit" -- . \
      ':(exclude).ci' ':(exclude)benchmarks' ':(exclude)devstack' ':(exclude)docs' ':(exclude)infra' \
      ':(exclude)scripts' ':(exclude)seed' ':(exclude)tests' ':(exclude)package.json' \
      ':(exclude)package-lock.json' ':(exclude)Makefile' ':(exclude)local.settings.example.json' \
      ':(exclude)requirements-dev.txt' ':(exclude)requirements-checkov.txt' ':(exclude).checkov.yaml'
    # On Flex Consumption the CLI publishes through the one-deploy endpoint into the deployment container.
    az functionapp deployment source config-zip --resource-group "$resource_group" --name "$function_app" \
      --src "$package" --build-remote true --output none
  fi
fi

# --- Smoke test -------------------------------------------------------------------------------------

health_url="https://${host_name}/api/health"
log "smoke test: GET $health_url (up to $((HEALTH_ATTEMPTS * HEALTH_INTERVAL_SECONDS)) s)"
status=""
for ((attempt = 1; attempt <= HEALTH_ATTEMPTS; attempt++)); do
  status="$(curl --silent --show-error --output "$work_dir/health.json" --write-out '%{http_code}' \
    --max-time 30 "$health_url" 2>/dev/null || true)"
  if [[ "$status" == "200" ]]; then
    log "healthy: $(cat "$work_dir/health.json")"
    # Each capability is imported on its functions' first call; the OpenAPI document imports them all.
    openapi_url="https://${host_name}/api/openapi.json"
    openapi_status="$(curl --silent --show-error --output /dev/null --write-out '%{http_code}' \
      --max-time 60 "$openapi_url" 2>/dev/null || true)"
    [[ "$openapi_status" == "200" ]] \
      || die "GET $openapi_url answered ${openapi_status:-nothing}, not 200: a capability fails to import. Roll back with: $0 --env $env_name --resource-group $resource_group --rollback"
    log "done: $env_name runs commit $short_commit on $function_app"
    exit 0
  fi
  sleep "$HEALTH_INTERVAL_SECONDS"
done
[[ -s "$work_dir/health.json" ]] && warn "last answer: $(cat "$work_dir/health.json")"
die "GET $health_url answered ${status:-nothing}, not 200. Roll back with: $0 --env $env_name --resource-group $resource_group --rollback"

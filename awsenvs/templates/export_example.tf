# A root module wiring the modules awsenvs exported, for a team that signs in through IAM
# Identity Center: one product (shop) with a dev and a prod account.  Make it yours, then, with
# the management account's credentials:
#   terraform init
#   terraform apply -target=module.organization   # the accounts first: their providers need the ids
#   terraform apply
# Exported by `awsenvs export-modules`; this copy is yours to edit (see ../README.md).

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100.0"
    }
  }
  # backend "s3" { ... }   # where your state lives: your choice
}

locals {
  region = "eu-west-1"
  accounts = {
    "shop-dev"  = { email = "aws+shop-dev@example.com", organizational_unit = "shop" }
    "shop-prod" = { email = "aws+shop-prod@example.com", organizational_unit = "shop", tags = { environment = "prod" } }
  }
}

# The management account (set allowed_account_ids to its id: Terraform then refuses any other).
provider "aws" {
  region = local.region
  # allowed_account_ids = ["111111111111"]
}

module "organization" {
  source = "../organization"
  # Every trusted service the organization has, or it is disabled: account.amazonaws.com for
  # account_settings, sso.amazonaws.com for Identity Center (iam.amazonaws.com comes with centralized_root).
  trusted_services     = ["account.amazonaws.com", "sso.amazonaws.com"]
  policy_types         = ["RESOURCE_CONTROL_POLICY", "SERVICE_CONTROL_POLICY"]
  organizational_units = ["shop"]
  accounts             = local.accounts
}

module "guardrails" {
  source          = "../guardrails"
  organization_id = module.organization.organization_id
  service_control_policies = {
    "awsenvs-shop-guardrails" = {
      targets         = { shop = module.organization.organizational_unit_ids["shop"] }
      allowed_regions = [local.region, "us-east-1"]
    }
  }
  data_perimeters = {
    "awsenvs-shop-data-perimeter" = {
      targets = { shop = module.organization.organizational_unit_ids["shop"] }
    }
  }
}

module "account_settings" {
  source     = "../account_settings"
  depends_on = [module.organization] # trusted access for account.amazonaws.com first
  accounts = {
    for name in keys(local.accounts) : name => {
      account_id = module.organization.account_ids[name]
      contacts = {
        security = { name = "Security team", title = "Security", email = "security@example.com", phone = "+1 206 555 0100" }
      }
      regions = name == "shop-prod" ? ["eu-south-2"] : []
    }
  }
}

module "identity_center" {
  source = "../identity_center"
  groups = {
    sysadmins  = { policies = ["arn:aws:iam::aws:policy/AdministratorAccess"] }
    developers = { policies = ["arn:aws:iam::aws:policy/PowerUserAccess"], session_hours = 8 }
  }
  users = {
    maria = { display_name = "Maria Lopez", email = "maria@example.com", groups = ["sysadmins"] }
    ben   = { display_name = "Ben Okafor", email = "ben@example.com", groups = ["developers"] }
  }
  # Who gets what where: prod only for maria.
  assignments = {
    "shop-dev/maria/sysadmins"  = { user = "maria", group = "sysadmins", account_id = module.organization.account_ids["shop-dev"] }
    "shop-dev/ben/developers"   = { user = "ben", group = "developers", account_id = module.organization.account_ids["shop-dev"] }
    "shop-prod/maria/sysadmins" = { user = "maria", group = "sysadmins", account_id = module.organization.account_ids["shop-prod"] }
  }
}

# Each member account through the role Organizations made in it.
provider "aws" {
  alias  = "shop_dev"
  region = local.region
  assume_role {
    role_arn = "arn:aws:iam::${module.organization.account_ids["shop-dev"]}:role/OrganizationAccountAccessRole"
  }
  allowed_account_ids = [module.organization.account_ids["shop-dev"]]
}

provider "aws" {
  alias  = "shop_prod"
  region = local.region
  assume_role {
    role_arn = "arn:aws:iam::${module.organization.account_ids["shop-prod"]}:role/OrganizationAccountAccessRole"
  }
  allowed_account_ids = [module.organization.account_ids["shop-prod"]]
}

module "shop_dev" {
  source    = "../account"
  providers = { aws = aws.shop_dev }
  alias     = "example-shop-dev"
}

module "shop_prod" {
  source    = "../account"
  providers = { aws = aws.shop_prod }
  alias     = "example-shop-prod"
}

output "access_portal" {
  description = "Where people sign in (their first sign-in starts from the email Identity Center sends)."
  value       = module.identity_center.portal_url
}

output "account_ids" {
  value = module.organization.account_ids
}

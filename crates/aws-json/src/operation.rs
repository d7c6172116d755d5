//! The operations of the `cognito-idp` service model and the ones cognate
//! implements, dispatched by `X-Amz-Target`.

use std::sync::Arc;

use cognate_core::UserPools;
use serde_json::Value;

use crate::error::ApiError;
use crate::ops;

/// The prefix of every `X-Amz-Target` of the service.
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// Every operation of the botocore `cognito-idp` model (2016-04-18).
pub const MODEL_OPERATIONS: &[&str] = &[
    "AddCustomAttributes",
    "AddUserPoolClientSecret",
    "AdminAddUserToGroup",
    "AdminConfirmSignUp",
    "AdminCreateUser",
    "AdminDeleteSoftwareToken",
    "AdminDeleteUser",
    "AdminDeleteUserAttributes",
    "AdminDisableProviderForUser",
    "AdminDisableUser",
    "AdminEnableUser",
    "AdminForgetDevice",
    "AdminGetDevice",
    "AdminGetUser",
    "AdminGetUserAuthFactors",
    "AdminInitiateAuth",
    "AdminLinkProviderForUser",
    "AdminListDevices",
    "AdminListGroupsForUser",
    "AdminListUserAuthEvents",
    "AdminListUserSessions",
    "AdminRemoveUserFromGroup",
    "AdminResetUserPassword",
    "AdminRespondToAuthChallenge",
    "AdminRevokeUserSession",
    "AdminSetUserMFAPreference",
    "AdminSetUserPassword",
    "AdminSetUserSettings",
    "AdminUpdateAuthEventFeedback",
    "AdminUpdateDeviceStatus",
    "AdminUpdateUserAttributes",
    "AdminUserGlobalSignOut",
    "AssociateSoftwareToken",
    "ChangePassword",
    "CompleteWebAuthnRegistration",
    "ConfirmDevice",
    "ConfirmForgotPassword",
    "ConfirmSignUp",
    "CreateGroup",
    "CreateIdentityProvider",
    "CreateManagedLoginBranding",
    "CreateResourceServer",
    "CreateTerms",
    "CreateUserImportJob",
    "CreateUserPool",
    "CreateUserPoolClient",
    "CreateUserPoolDomain",
    "CreateUserPoolReplica",
    "DeleteGroup",
    "DeleteIdentityProvider",
    "DeleteManagedLoginBranding",
    "DeleteResourceServer",
    "DeleteTerms",
    "DeleteUser",
    "DeleteUserAttributes",
    "DeleteUserPool",
    "DeleteUserPoolClient",
    "DeleteUserPoolClientSecret",
    "DeleteUserPoolDomain",
    "DeleteUserPoolReplica",
    "DeleteWebAuthnCredential",
    "DescribeIdentityProvider",
    "DescribeManagedLoginBranding",
    "DescribeManagedLoginBrandingByClient",
    "DescribeResourceServer",
    "DescribeRiskConfiguration",
    "DescribeTerms",
    "DescribeTermsByClient",
    "DescribeUserImportJob",
    "DescribeUserPool",
    "DescribeUserPoolClient",
    "DescribeUserPoolDomain",
    "ForgetDevice",
    "ForgotPassword",
    "GetCSVHeader",
    "GetClientToken",
    "GetDerivedToken",
    "GetDevice",
    "GetGroup",
    "GetIdentityProviderByIdentifier",
    "GetLogDeliveryConfiguration",
    "GetProvisionedLimit",
    "GetSigningCertificate",
    "GetTokensFromRefreshToken",
    "GetUICustomization",
    "GetUser",
    "GetUserAttributeVerificationCode",
    "GetUserAuthFactors",
    "GetUserPoolClientSessionConfiguration",
    "GetUserPoolMfaConfig",
    "GetUserPoolSessionConfiguration",
    "GlobalSignOut",
    "InitiateAuth",
    "ListDevices",
    "ListGroups",
    "ListIdentityProviders",
    "ListResourceServers",
    "ListTagsForResource",
    "ListTerms",
    "ListUserImportJobs",
    "ListUserPoolClientSecrets",
    "ListUserPoolClients",
    "ListUserPoolReplicas",
    "ListUserPools",
    "ListUserSessions",
    "ListUsers",
    "ListUsersInGroup",
    "ListWebAuthnCredentials",
    "ResendConfirmationCode",
    "RespondToAuthChallenge",
    "RevokeToken",
    "RevokeUserSession",
    "SetLogDeliveryConfiguration",
    "SetRiskConfiguration",
    "SetUICustomization",
    "SetUserMFAPreference",
    "SetUserPoolClientSessionConfiguration",
    "SetUserPoolMfaConfig",
    "SetUserPoolSessionConfiguration",
    "SetUserSettings",
    "SignUp",
    "StartUserImportJob",
    "StartWebAuthnRegistration",
    "StopUserImportJob",
    "TagResource",
    "UntagResource",
    "UpdateAuthEventFeedback",
    "UpdateDeviceStatus",
    "UpdateGroup",
    "UpdateIdentityProvider",
    "UpdateManagedLoginBranding",
    "UpdateProvisionedLimit",
    "UpdateResourceServer",
    "UpdateTerms",
    "UpdateUserAttributes",
    "UpdateUserPool",
    "UpdateUserPoolClient",
    "UpdateUserPoolDomain",
    "UpdateUserPoolReplica",
    "VerifySoftwareToken",
    "VerifyUserAttribute",
];

/// The operations cognate implements.
pub const IMPLEMENTED: &[&str] = &[
    "AdminForgetDevice",
    "AdminGetDevice",
    "AdminListDevices",
    "AdminUpdateDeviceStatus",
    "ConfirmDevice",
    "ForgetDevice",
    "GetDevice",
    "ListDevices",
    "UpdateDeviceStatus",
    "AdminListUserAuthEvents",
    "AdminUpdateAuthEventFeedback",
    "UpdateAuthEventFeedback",
    "AdminListUserSessions",
    "AdminRevokeUserSession",
    "ListUserSessions",
    "RevokeUserSession",
    "AdminGetUserAuthFactors",
    "GetUserAuthFactors",
    "GetUserPoolClientSessionConfiguration",
    "GetUserPoolSessionConfiguration",
    "SetUserPoolClientSessionConfiguration",
    "SetUserPoolSessionConfiguration",
    "CreateUserPoolReplica",
    "DeleteUserPoolReplica",
    "GetProvisionedLimit",
    "ListUserPoolReplicas",
    "UpdateProvisionedLimit",
    "UpdateUserPoolReplica",
    // App client records: secrets, terms, managed login branding.
    "AddUserPoolClientSecret",
    "ListUserPoolClientSecrets",
    "DeleteUserPoolClientSecret",
    "CreateTerms",
    "DescribeTerms",
    "DescribeTermsByClient",
    "ListTerms",
    "UpdateTerms",
    "DeleteTerms",
    "CreateManagedLoginBranding",
    "DescribeManagedLoginBranding",
    "DescribeManagedLoginBrandingByClient",
    "UpdateManagedLoginBranding",
    "DeleteManagedLoginBranding",
    "AddCustomAttributes",
    "AdminLinkProviderForUser",
    "AdminDisableProviderForUser",
    "CreateIdentityProvider",
    "DescribeIdentityProvider",
    "UpdateIdentityProvider",
    "DeleteIdentityProvider",
    "ListIdentityProviders",
    "GetIdentityProviderByIdentifier",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "GetSigningCertificate",
    "GetClientToken",
    "GetLogDeliveryConfiguration",
    "SetLogDeliveryConfiguration",
    "DescribeRiskConfiguration",
    "SetRiskConfiguration",
    "CreateUserImportJob",
    "DescribeUserImportJob",
    "GetCSVHeader",
    "ListUserImportJobs",
    "StartUserImportJob",
    "StopUserImportJob",
    "AdminAddUserToGroup",
    "AdminConfirmSignUp",
    "AdminCreateUser",
    "AdminDeleteUser",
    "AdminDeleteUserAttributes",
    "AdminDisableUser",
    "AdminEnableUser",
    "AdminGetUser",
    "AdminInitiateAuth",
    "AdminListGroupsForUser",
    "AdminRemoveUserFromGroup",
    "AdminResetUserPassword",
    "AdminRespondToAuthChallenge",
    "AdminSetUserMFAPreference",
    "AdminDeleteSoftwareToken",
    "AdminSetUserSettings",
    "SetUserSettings",
    "AdminSetUserPassword",
    "AdminUpdateUserAttributes",
    "AdminUserGlobalSignOut",
    "AssociateSoftwareToken",
    "ChangePassword",
    "ConfirmForgotPassword",
    "ConfirmSignUp",
    "CreateGroup",
    "CreateResourceServer",
    "CreateUserPool",
    "CreateUserPoolClient",
    "CreateUserPoolDomain",
    "DeleteGroup",
    "DeleteResourceServer",
    "DeleteUser",
    "DeleteUserAttributes",
    "DeleteUserPool",
    "DeleteUserPoolClient",
    "DeleteUserPoolDomain",
    "DescribeResourceServer",
    "DescribeUserPool",
    "DescribeUserPoolClient",
    "DescribeUserPoolDomain",
    "GetUICustomization",
    "SetUICustomization",
    "UpdateUserPoolDomain",
    "ForgotPassword",
    "GetGroup",
    "GetUser",
    "GetUserAttributeVerificationCode",
    "GetUserPoolMfaConfig",
    "GlobalSignOut",
    "InitiateAuth",
    "GetTokensFromRefreshToken",
    "ListGroups",
    "ListResourceServers",
    "ListUserPoolClients",
    "ListUserPools",
    "ListUsers",
    "ListUsersInGroup",
    "ResendConfirmationCode",
    "RespondToAuthChallenge",
    "RevokeToken",
    "SetUserMFAPreference",
    "SetUserPoolMfaConfig",
    "SignUp",
    "UpdateGroup",
    "UpdateResourceServer",
    "UpdateUserAttributes",
    "UpdateUserPool",
    "UpdateUserPoolClient",
    "VerifySoftwareToken",
    "VerifyUserAttribute",
    "StartWebAuthnRegistration",
    "CompleteWebAuthnRegistration",
    "ListWebAuthnCredentials",
    "DeleteWebAuthnCredential",
    "GetDerivedToken",
];

/// Runs one operation on a request body.
pub async fn dispatch(
    svc: &Arc<UserPools>,
    operation: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    match operation {
        "ConfirmDevice" => ops::devices::confirm_device(svc, body).await,
        "ListDevices" | "AdminListDevices" => ops::devices::list_devices(svc, body).await,
        "GetDevice" | "AdminGetDevice" => ops::devices::get_device(svc, body).await,
        "UpdateDeviceStatus" | "AdminUpdateDeviceStatus" => {
            ops::devices::update_device_status(svc, body).await
        }
        "ForgetDevice" | "AdminForgetDevice" => ops::devices::forget_device(svc, body).await,
        "AdminListUserSessions" => ops::user_sessions::admin_list_user_sessions(svc, body).await,
        "AdminListUserAuthEvents" => ops::auth_events::admin_list_user_auth_events(svc, body).await,
        "AdminUpdateAuthEventFeedback" => {
            ops::auth_events::admin_update_auth_event_feedback(svc, body).await
        }
        "UpdateAuthEventFeedback" => ops::auth_events::update_auth_event_feedback(svc, body).await,
        "ListUserSessions" => ops::user_sessions::list_user_sessions(svc, body).await,
        "AdminRevokeUserSession" => ops::user_sessions::admin_revoke_user_session(svc, body).await,
        "RevokeUserSession" => ops::user_sessions::revoke_user_session(svc, body).await,
        "AdminGetUserAuthFactors" => {
            ops::auth_factors::admin_get_user_auth_factors(svc, body).await
        }
        "GetUserAuthFactors" => ops::auth_factors::get_user_auth_factors(svc, body).await,
        "GetUserPoolSessionConfiguration" => {
            ops::sessions::get_user_pool_session_configuration(svc, body).await
        }
        "SetUserPoolSessionConfiguration" => {
            ops::sessions::set_user_pool_session_configuration(svc, body).await
        }
        "GetUserPoolClientSessionConfiguration" => {
            ops::sessions::get_user_pool_client_session_configuration(svc, body).await
        }
        "SetUserPoolClientSessionConfiguration" => {
            ops::sessions::set_user_pool_client_session_configuration(svc, body).await
        }
        "ListUserPoolReplicas" => ops::regional::list_user_pool_replicas(svc, body).await,
        "CreateUserPoolReplica" => ops::regional::create_user_pool_replica(svc, body).await,
        "UpdateUserPoolReplica" | "DeleteUserPoolReplica" => {
            ops::regional::change_user_pool_replica(svc, body).await
        }
        "GetProvisionedLimit" | "UpdateProvisionedLimit" => {
            ops::regional::provisioned_limit(svc, body).await
        }
        "AddUserPoolClientSecret" => {
            ops::client_records::add_user_pool_client_secret(svc, body).await
        }
        "ListUserPoolClientSecrets" => {
            ops::client_records::list_user_pool_client_secrets(svc, body).await
        }
        "DeleteUserPoolClientSecret" => {
            ops::client_records::delete_user_pool_client_secret(svc, body).await
        }
        "CreateTerms" => ops::client_records::create_terms(svc, body).await,
        "DescribeTerms" => ops::client_records::describe_terms(svc, body).await,
        "DescribeTermsByClient" => ops::client_records::describe_terms_by_client(svc, body).await,
        "ListTerms" => ops::client_records::list_terms(svc, body).await,
        "UpdateTerms" => ops::client_records::update_terms(svc, body).await,
        "DeleteTerms" => ops::client_records::delete_terms(svc, body).await,
        "CreateManagedLoginBranding" => {
            ops::client_records::create_managed_login_branding(svc, body).await
        }
        "DescribeManagedLoginBranding" => {
            ops::client_records::describe_managed_login_branding(svc, body).await
        }
        "DescribeManagedLoginBrandingByClient" => {
            ops::client_records::describe_managed_login_branding_by_client(svc, body).await
        }
        "UpdateManagedLoginBranding" => {
            ops::client_records::update_managed_login_branding(svc, body).await
        }
        "DeleteManagedLoginBranding" => {
            ops::client_records::delete_managed_login_branding(svc, body).await
        }
        "CreateUserImportJob" => ops::import_jobs::create_user_import_job(svc, body).await,
        "GetCSVHeader" => ops::import_jobs::get_csv_header(svc, body).await,
        "StartUserImportJob" => ops::import_jobs::start_user_import_job(svc, body).await,
        "StopUserImportJob" => ops::import_jobs::stop_user_import_job(svc, body).await,
        "DescribeUserImportJob" => ops::import_jobs::describe_user_import_job(svc, body).await,
        "ListUserImportJobs" => ops::import_jobs::list_user_import_jobs(svc, body).await,
        "AdminConfirmSignUp" => ops::users::admin_confirm_sign_up(svc, body).await,
        "AdminCreateUser" => ops::users::admin_create_user(svc, body).await,
        "AdminDeleteUser" => ops::users::admin_delete_user(svc, body).await,
        "AdminGetUser" => ops::users::admin_get_user(svc, body).await,
        "AdminInitiateAuth" => ops::auth::admin_initiate_auth(svc, body).await,
        "AdminRespondToAuthChallenge" => {
            ops::auth::admin_respond_to_auth_challenge(svc, body).await
        }
        "AdminSetUserPassword" => ops::users::admin_set_user_password(svc, body).await,
        "ConfirmSignUp" => ops::users::confirm_sign_up(svc, body).await,
        "CreateUserPool" => ops::pools::create_user_pool(svc, body).await,
        "AddCustomAttributes" => ops::pools::add_custom_attributes(svc, body).await,
        "CreateUserPoolClient" => ops::clients::create_user_pool_client(svc, body).await,
        "DeleteUser" => ops::users::delete_user(svc, body).await,
        "DeleteUserPool" => ops::pools::delete_user_pool(svc, body).await,
        "DeleteUserPoolClient" => ops::clients::delete_user_pool_client(svc, body).await,
        "DescribeUserPool" => ops::pools::describe_user_pool(svc, body).await,
        "DescribeUserPoolClient" => ops::clients::describe_user_pool_client(svc, body).await,
        "GetUser" => ops::users::get_user(svc, body).await,
        "InitiateAuth" => ops::auth::initiate_auth(svc, body).await,
        "GetTokensFromRefreshToken" => ops::auth::get_tokens_from_refresh_token(svc, body).await,
        "ListUserPoolClients" => ops::clients::list_user_pool_clients(svc, body).await,
        "ListUserPools" => ops::pools::list_user_pools(svc, body).await,
        "ListUsers" => ops::users::list_users(svc, body).await,
        "ResendConfirmationCode" => ops::users::resend_confirmation_code(svc, body).await,
        "RespondToAuthChallenge" => ops::auth::respond_to_auth_challenge(svc, body).await,
        "SignUp" => ops::users::sign_up(svc, body).await,
        "UpdateUserPool" => ops::pools::update_user_pool(svc, body).await,
        "UpdateUserPoolClient" => ops::clients::update_user_pool_client(svc, body).await,
        "AdminAddUserToGroup" => ops::groups::admin_add_user_to_group(svc, body).await,
        "AdminDeleteUserAttributes" => ops::account::admin_delete_user_attributes(svc, body).await,
        "AdminDisableUser" => ops::account::admin_disable_user(svc, body).await,
        "AdminEnableUser" => ops::account::admin_enable_user(svc, body).await,
        "AdminListGroupsForUser" => ops::groups::admin_list_groups_for_user(svc, body).await,
        "AdminRemoveUserFromGroup" => ops::groups::admin_remove_user_from_group(svc, body).await,
        "AdminResetUserPassword" => ops::account::admin_reset_user_password(svc, body).await,
        "AdminUpdateUserAttributes" => ops::account::admin_update_user_attributes(svc, body).await,
        "AdminUserGlobalSignOut" => ops::account::admin_user_global_sign_out(svc, body).await,
        "ChangePassword" => ops::account::change_password(svc, body).await,
        "ConfirmForgotPassword" => ops::account::confirm_forgot_password(svc, body).await,
        "CreateUserPoolDomain" => ops::domains::create_user_pool_domain(svc, body).await,
        "DescribeUserPoolDomain" => ops::domains::describe_user_pool_domain(svc, body).await,
        "DeleteUserPoolDomain" => ops::domains::delete_user_pool_domain(svc, body).await,
        "UpdateUserPoolDomain" => ops::domains::update_user_pool_domain(svc, body).await,
        "SetUICustomization" => ops::domains::set_ui_customization(svc, body).await,
        "GetUICustomization" => ops::domains::get_ui_customization(svc, body).await,
        "CreateResourceServer" => ops::resource_servers::create_resource_server(svc, body).await,
        "DescribeResourceServer" => {
            ops::resource_servers::describe_resource_server(svc, body).await
        }
        "ListResourceServers" => ops::resource_servers::list_resource_servers(svc, body).await,
        "UpdateResourceServer" => ops::resource_servers::update_resource_server(svc, body).await,
        "DeleteResourceServer" => ops::resource_servers::delete_resource_server(svc, body).await,
        "CreateGroup" => ops::groups::create_group(svc, body).await,
        "DeleteGroup" => ops::groups::delete_group(svc, body).await,
        "DeleteUserAttributes" => ops::account::delete_user_attributes(svc, body).await,
        "ForgotPassword" => ops::account::forgot_password(svc, body).await,
        "GetGroup" => ops::groups::get_group(svc, body).await,
        "GetUserAttributeVerificationCode" => {
            ops::account::get_user_attribute_verification_code(svc, body).await
        }
        "GlobalSignOut" => ops::account::global_sign_out(svc, body).await,
        "ListGroups" => ops::groups::list_groups(svc, body).await,
        "ListUsersInGroup" => ops::groups::list_users_in_group(svc, body).await,
        "RevokeToken" => ops::account::revoke_token(svc, body).await,
        "UpdateGroup" => ops::groups::update_group(svc, body).await,
        "UpdateUserAttributes" => ops::account::update_user_attributes(svc, body).await,
        "VerifyUserAttribute" => ops::account::verify_user_attribute(svc, body).await,
        "AdminSetUserMFAPreference" => ops::mfa::admin_set_user_mfa_preference(svc, body).await,
        "AssociateSoftwareToken" => ops::mfa::associate_software_token(svc, body).await,
        "GetUserPoolMfaConfig" => ops::mfa::get_user_pool_mfa_config(svc, body).await,
        "SetUserMFAPreference" => ops::mfa::set_user_mfa_preference(svc, body).await,
        "SetUserPoolMfaConfig" => ops::mfa::set_user_pool_mfa_config(svc, body).await,
        "VerifySoftwareToken" => ops::mfa::verify_software_token(svc, body).await,
        "AdminLinkProviderForUser" => {
            ops::identities::admin_link_provider_for_user(svc, body).await
        }
        "AdminDisableProviderForUser" => {
            ops::identities::admin_disable_provider_for_user(svc, body).await
        }
        "CreateIdentityProvider" => ops::pool_records::create_identity_provider(svc, body).await,
        "DescribeIdentityProvider" => {
            ops::pool_records::describe_identity_provider(svc, body).await
        }
        "UpdateIdentityProvider" => ops::pool_records::update_identity_provider(svc, body).await,
        "DeleteIdentityProvider" => ops::pool_records::delete_identity_provider(svc, body).await,
        "ListIdentityProviders" => ops::pool_records::list_identity_providers(svc, body).await,
        "GetIdentityProviderByIdentifier" => {
            ops::pool_records::get_identity_provider_by_identifier(svc, body).await
        }
        "TagResource" => ops::pool_records::tag_resource(svc, body).await,
        "UntagResource" => ops::pool_records::untag_resource(svc, body).await,
        "ListTagsForResource" => ops::pool_records::list_tags_for_resource(svc, body).await,
        "GetSigningCertificate" => ops::pool_records::get_signing_certificate(svc, body).await,
        "GetClientToken" => ops::clients::get_client_token(svc, body).await,
        // Unsigned here; `crate::call_as` passes a signed call's proof.
        "GetDerivedToken" => ops::derived_token::get_derived_token(svc, body, false).await,
        "GetLogDeliveryConfiguration" => {
            ops::pool_records::get_log_delivery_configuration(svc, body).await
        }
        "SetLogDeliveryConfiguration" => {
            ops::pool_records::set_log_delivery_configuration(svc, body).await
        }
        "DescribeRiskConfiguration" => {
            ops::pool_records::describe_risk_configuration(svc, body).await
        }
        "SetRiskConfiguration" => ops::pool_records::set_risk_configuration(svc, body).await,
        "AdminDeleteSoftwareToken" => ops::mfa::admin_delete_software_token(svc, body).await,
        "SetUserSettings" => ops::mfa::set_user_settings(svc, body).await,
        "AdminSetUserSettings" => ops::mfa::admin_set_user_settings(svc, body).await,
        "StartWebAuthnRegistration" => ops::webauthn::start_web_authn_registration(svc, body).await,
        "CompleteWebAuthnRegistration" => {
            ops::webauthn::complete_web_authn_registration(svc, body).await
        }
        "ListWebAuthnCredentials" => ops::webauthn::list_web_authn_credentials(svc, body).await,
        "DeleteWebAuthnCredential" => ops::webauthn::delete_web_authn_credential(svc, body).await,
        other if MODEL_OPERATIONS.contains(&other) => Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "UnsupportedOperationException",
            format!("cognate does not implement {other} yet."),
        )),
        other => Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("Unknown operation {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implemented_operations_are_in_the_model() {
        for op in IMPLEMENTED {
            assert!(
                MODEL_OPERATIONS.contains(op),
                "{op} is not a model operation"
            );
        }
    }
}

#[cfg(test)]
mod compat_doc {
    use super::*;

    /// docs/compat.md lists every model operation with the status the code gives it.
    #[test]
    fn compat_doc_matches_the_code() {
        let doc = include_str!("../../../docs/compat.md");
        for op in MODEL_OPERATIONS {
            let row = doc
                .lines()
                .find(|l| l.starts_with(&format!("| {op} |")))
                .unwrap_or_else(|| {
                    panic!("docs/compat.md has no row for {op}; run scripts/gen-compat.py")
                });
            let implemented = IMPLEMENTED.contains(op);
            assert_eq!(
                !row.contains("| not yet |"),
                implemented,
                "docs/compat.md is out of date for {op}; run scripts/gen-compat.py"
            );
        }
    }
}

//! [`CognitoDirectory`]: the `Directory` port on an Amazon Cognito user pool and one of its
//! app clients (no secret, `USER_PASSWORD_AUTH` enabled).
//!
//! Admin operations (`Admin*`, groups, listing, signing a user out everywhere) use the pool id
//! and the SDK's credentials; sign-in is the user's own call through the app client.
//! Passwords, sessions and tokens pass through but are never logged: the SDK redacts them in
//! its own `Debug` output, and the errors of these calls are turned into fixed messages here.

use crate::aws::error::{from_build, from_sdk, malformed};
use crate::aws::time::to_chrono;
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider::error::SdkError;
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::{InitiateAuthError, InitiateAuthOutput};
use aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeError;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, AuthenticationResultType, ChallengeNameType, DeliveryMediumType, MessageActionType,
    UserStatusType, UserType,
};
use aws_sdk_cognitoidentityprovider::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use domain::directory::{Directory, Invitation, PasswordPolicy, SignIn, Tokens, User, UserPage, UserStatus};
use domain::CloudError;

/// The one answer to a failed sign-in, whether the user is unknown, disabled or the password
/// wrong: telling them apart would let anyone probe which addresses have accounts.
const SIGN_IN_REFUSED: &str = "incorrect email or password";

/// Cognito's bounds for one page of `ListUsers`.
const MAX_USERS_PER_PAGE: u32 = 60;

/// A Cognito user pool, administered through the SDK's credentials.
#[derive(Debug, Clone)]
pub struct CognitoDirectory {
    client: Client,
    user_pool_id: String,
    client_id: String,
}

impl CognitoDirectory {
    /// An adapter for the pool `user_pool_id`, signing users in through its app client
    /// `client_id`.
    pub fn new(config: &SdkConfig, user_pool_id: String, client_id: String) -> Self {
        Self::from_client(Client::new(config), user_pool_id, client_id)
    }

    /// An adapter around a ready client (a mocked one in tests).
    pub fn from_client(client: Client, user_pool_id: String, client_id: String) -> Self {
        Self { client, user_pool_id, client_id }
    }

    async fn groups_page(&self, next: Option<String>) -> Result<(Vec<String>, Option<String>), CloudError> {
        let out = self
            .client
            .list_groups()
            .user_pool_id(&self.user_pool_id)
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| from_sdk("ListGroups", e))?;
        let names = out.groups().iter().filter_map(|g| g.group_name().map(str::to_owned)).collect();
        Ok((names, non_empty(out.next_token())))
    }

    async fn user_groups_page(
        &self,
        username: &str,
        next: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), CloudError> {
        let out = self
            .client
            .admin_list_groups_for_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| from_sdk("AdminListGroupsForUser", e))?;
        let names = out.groups().iter().filter_map(|g| g.group_name().map(str::to_owned)).collect();
        Ok((names, non_empty(out.next_token())))
    }
}

#[async_trait]
impl Directory for CognitoDirectory {
    async fn probe(&self) -> Result<(), CloudError> {
        self.client
            .describe_user_pool()
            .user_pool_id(&self.user_pool_id)
            .send()
            .await
            .map_err(|e| from_sdk("DescribeUserPool", e))?;
        Ok(())
    }

    async fn password_policy(&self) -> Result<PasswordPolicy, CloudError> {
        let out = self
            .client
            .describe_user_pool()
            .user_pool_id(&self.user_pool_id)
            .send()
            .await
            .map_err(|e| from_sdk("DescribeUserPool", e))?;
        let Some(p) = out.user_pool().and_then(|pool| pool.policies()).and_then(|p| p.password_policy()) else {
            return Ok(PasswordPolicy::default());
        };
        Ok(PasswordPolicy {
            min_length: p.minimum_length().and_then(|n| u32::try_from(n).ok()).unwrap_or(8),
            require_uppercase: p.require_uppercase(),
            require_lowercase: p.require_lowercase(),
            require_numbers: p.require_numbers(),
            require_symbols: p.require_symbols(),
        })
    }

    async fn list_users(
        &self,
        email_prefix: Option<&str>,
        limit: u32,
        next: Option<&str>,
    ) -> Result<UserPage, CloudError> {
        let limit = limit.clamp(1, MAX_USERS_PER_PAGE) as i32;
        let out = self
            .client
            .list_users()
            .user_pool_id(&self.user_pool_id)
            .limit(limit)
            .set_pagination_token(next.map(str::to_owned))
            .set_filter(email_prefix.map(email_prefix_filter))
            .send()
            .await
            .map_err(|e| from_sdk("ListUsers", e))?;
        Ok(UserPage { users: out.users().iter().map(user).collect(), next: non_empty(out.pagination_token()) })
    }

    async fn invite(&self, invitation: &Invitation) -> Result<User, CloudError> {
        let email = &invitation.email;
        let out = self
            .client
            .admin_create_user()
            .user_pool_id(&self.user_pool_id)
            .username(email)
            .user_attributes(attribute("email", email)?)
            .user_attributes(attribute("email_verified", "true")?)
            .desired_delivery_mediums(DeliveryMediumType::Email)
            .set_temporary_password(invitation.temporary_password.clone())
            .send()
            .await
            .map_err(|e| match from_sdk("AdminCreateUser", e) {
                CloudError::Conflict(_) => CloudError::Conflict(format!("a user with email {email}")),
                other => other,
            })?;
        out.user().map(user).ok_or_else(|| malformed("AdminCreateUser", "User"))
    }

    async fn resend_invitation(&self, username: &str) -> Result<(), CloudError> {
        self.client
            .admin_create_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .message_action(MessageActionType::Resend)
            .desired_delivery_mediums(DeliveryMediumType::Email)
            .send()
            .await
            .map_err(|e| from_sdk("AdminCreateUser", e))?;
        Ok(())
    }

    async fn disable(&self, username: &str) -> Result<(), CloudError> {
        self.client
            .admin_disable_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .send()
            .await
            .map_err(|e| from_sdk("AdminDisableUser", e))?;
        Ok(())
    }

    async fn enable(&self, username: &str) -> Result<(), CloudError> {
        self.client
            .admin_enable_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .send()
            .await
            .map_err(|e| from_sdk("AdminEnableUser", e))?;
        Ok(())
    }

    async fn delete(&self, username: &str) -> Result<(), CloudError> {
        self.client
            .admin_delete_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .send()
            .await
            .map_err(|e| from_sdk("AdminDeleteUser", e))?;
        Ok(())
    }

    async fn list_groups(&self) -> Result<Vec<String>, CloudError> {
        let (mut groups, mut next) = self.groups_page(None).await?;
        while let Some(token) = next {
            let (page, following) = self.groups_page(Some(token)).await?;
            groups.extend(page);
            next = following;
        }
        groups.sort();
        Ok(groups)
    }

    async fn ensure_group(&self, group: &str) -> Result<(), CloudError> {
        let created = self.client.create_group().user_pool_id(&self.user_pool_id).group_name(group).send().await;
        match created {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_group_exists_exception()) => Ok(()),
            Err(err) => Err(from_sdk("CreateGroup", err)),
        }
    }

    async fn groups_of(&self, username: &str) -> Result<Vec<String>, CloudError> {
        let (mut groups, mut next) = self.user_groups_page(username, None).await?;
        while let Some(token) = next {
            let (page, following) = self.user_groups_page(username, Some(token)).await?;
            groups.extend(page);
            next = following;
        }
        groups.sort();
        Ok(groups)
    }

    async fn members_of(&self, group: &str) -> Result<Vec<User>, CloudError> {
        let mut members = Vec::new();
        let mut next = None;
        loop {
            let out = self
                .client
                .list_users_in_group()
                .user_pool_id(&self.user_pool_id)
                .group_name(group)
                .limit(MAX_USERS_PER_PAGE as i32)
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| from_sdk("ListUsersInGroup", e))?;
            members.extend(out.users().iter().map(user));
            next = non_empty(out.next_token());
            if next.is_none() {
                return Ok(members);
            }
        }
    }

    async fn add_to_group(&self, username: &str, group: &str) -> Result<(), CloudError> {
        self.client
            .admin_add_user_to_group()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .group_name(group)
            .send()
            .await
            .map_err(|e| from_sdk("AdminAddUserToGroup", e))?;
        Ok(())
    }

    async fn remove_from_group(&self, username: &str, group: &str) -> Result<(), CloudError> {
        self.client
            .admin_remove_user_from_group()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .group_name(group)
            .send()
            .await
            .map_err(|e| from_sdk("AdminRemoveUserFromGroup", e))?;
        Ok(())
    }

    async fn sign_in(&self, email: &str, password: &str) -> Result<SignIn, CloudError> {
        let out = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", email)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map_err(sign_in_error)?;
        sign_in_answer(out)
    }

    async fn complete_new_password(
        &self,
        email: &str,
        new_password: &str,
        session: &str,
    ) -> Result<Tokens, CloudError> {
        let out = self
            .client
            .respond_to_auth_challenge()
            .client_id(&self.client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .session(session)
            .challenge_responses("USERNAME", email)
            .challenge_responses("NEW_PASSWORD", new_password)
            .send()
            .await
            .map_err(new_password_error)?;
        if let Some(challenge) = out.challenge_name() {
            return Err(unsupported_challenge(challenge));
        }
        tokens("RespondToAuthChallenge", out.authentication_result())
    }

    async fn sign_out_everywhere(&self, username: &str) -> Result<(), CloudError> {
        let signed_out =
            self.client.admin_user_global_sign_out().user_pool_id(&self.user_pool_id).username(username).send().await;
        match signed_out {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_user_not_found_exception()) => {
                tracing::debug!("AdminUserGlobalSignOut: no such user");
                Err(CloudError::NotFound(format!("user {username}")))
            }
            Err(err) => Err(from_sdk("AdminUserGlobalSignOut", err)),
        }
    }
}

/// `ListUsers`' filter for emails starting with `prefix`, quoted as its grammar wants.
fn email_prefix_filter(prefix: &str) -> String {
    let escaped = prefix.replace('\\', "\\\\").replace('"', "\\\"");
    format!("email ^= \"{escaped}\"")
}

fn attribute(name: &str, value: &str) -> Result<AttributeType, CloudError> {
    AttributeType::builder().name(name).value(value).build().map_err(|e| from_build("user attribute", e))
}

fn user(user: &UserType) -> User {
    let username = user.username().unwrap_or_default().to_owned();
    let email = user.attributes().iter().find(|a| a.name() == "email").and_then(|a| a.value());
    User {
        email: email.map_or_else(|| username.clone(), str::to_owned),
        username,
        status: status(user.enabled(), user.user_status()),
        created_at: user.user_create_date().and_then(to_chrono),
    }
}

fn status(enabled: bool, status: Option<&UserStatusType>) -> UserStatus {
    match status {
        _ if !enabled => UserStatus::Disabled,
        Some(UserStatusType::ForceChangePassword | UserStatusType::ResetRequired) => UserStatus::Invited,
        _ => UserStatus::Active,
    }
}

fn sign_in_answer(out: InitiateAuthOutput) -> Result<SignIn, CloudError> {
    match out.challenge_name() {
        None => Ok(SignIn::Authenticated(tokens("InitiateAuth", out.authentication_result())?)),
        Some(ChallengeNameType::NewPasswordRequired) => {
            let session = out.session().ok_or_else(|| malformed("InitiateAuth", "Session"))?;
            Ok(SignIn::NewPasswordRequired { session: session.to_owned() })
        }
        Some(other) => Err(unsupported_challenge(other)),
    }
}

fn tokens(operation: &'static str, result: Option<&AuthenticationResultType>) -> Result<Tokens, CloudError> {
    let result = result.ok_or_else(|| malformed(operation, "AuthenticationResult"))?;
    Ok(Tokens {
        id_token: result.id_token().ok_or_else(|| malformed(operation, "IdToken"))?.to_owned(),
        access_token: result.access_token().ok_or_else(|| malformed(operation, "AccessToken"))?.to_owned(),
        expires_in_secs: i64::from(result.expires_in()),
    })
}

fn unsupported_challenge(challenge: &ChallengeNameType) -> CloudError {
    tracing::warn!(
        challenge = challenge.as_str(),
        "the user pool asked for a sign-in challenge ShinyFleet does not support"
    );
    CloudError::Invalid(format!(
        "this account needs a {} sign-in step the console does not support",
        challenge.as_str()
    ))
}

fn sign_in_error(err: SdkError<InitiateAuthError, HttpResponse>) -> CloudError {
    let refused =
        err.as_service_error().is_some_and(|e| e.is_not_authorized_exception() || e.is_user_not_found_exception());
    if refused {
        tracing::debug!("sign-in refused");
        return CloudError::NotAuthorized(SIGN_IN_REFUSED.into());
    }
    from_sdk("InitiateAuth", err)
}

fn new_password_error(err: SdkError<RespondToAuthChallengeError, HttpResponse>) -> CloudError {
    let Some(service) = err.as_service_error() else {
        return from_sdk("RespondToAuthChallenge", err);
    };
    if service.is_invalid_password_exception() {
        let message = service.message().filter(|m| !m.is_empty());
        return CloudError::Invalid(message.unwrap_or("the password does not follow the pool's rules").to_owned());
    }
    if service.is_not_authorized_exception()
        || service.is_code_mismatch_exception()
        || service.is_expired_code_exception()
    {
        tracing::debug!("new-password challenge refused");
        return CloudError::NotAuthorized("the sign-in expired; sign in again with the temporary password".into());
    }
    from_sdk("RespondToAuthChallenge", err)
}

fn non_empty(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_filters_escape_quotes_and_backslashes() {
        assert_eq!(email_prefix_filter("ann"), r#"email ^= "ann""#);
        assert_eq!(email_prefix_filter(r#"a"b\c"#), r#"email ^= "a\"b\\c""#);
    }

    #[test]
    fn status_follows_enabled_then_pool_status() {
        let cases = [
            (false, Some(UserStatusType::Confirmed), UserStatus::Disabled),
            (false, Some(UserStatusType::ForceChangePassword), UserStatus::Disabled),
            (true, Some(UserStatusType::ForceChangePassword), UserStatus::Invited),
            (true, Some(UserStatusType::ResetRequired), UserStatus::Invited),
            (true, Some(UserStatusType::Confirmed), UserStatus::Active),
            (true, None, UserStatus::Active),
        ];
        for (enabled, pool_status, want) in cases {
            assert_eq!(status(enabled, pool_status.as_ref()), want, "{enabled} {pool_status:?}");
        }
    }
}

//! Registering an app and editing one: one form, every field with its own message. The size
//! is picked from the CPU/memory pairs Fargate accepts, so an invalid pair cannot be chosen.

use crate::api::apps::{load_app, CreateApp, UpdateApp};
use crate::error::AppError;
use crate::model::AppForm;
use crate::pages::{form_error, interactive, ErrorNotice, FieldError, FormError};
use crate::shell::CurrentUser;
use domain::{AppInput, FargateSize};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

/// Every field of the form, for the errors that belong to none of them.
const FIELDS: &[&str] = &[
    "slug",
    "name",
    "image",
    "size",
    "architecture",
    "port",
    "env",
    "task_role_arn",
    "execution_role_arn",
    "health_check_path",
    "health_check_tool",
    "desired_count",
    "tags",
    "target_group_arn",
];

#[component]
pub fn NewAppPage() -> impl IntoView {
    let user = CurrentUser::get();
    let action = ServerAction::<CreateApp>::new();
    let errors = open_when_saved(action);
    crate::pages::focus_errors_of(action, "app-form");
    let pending = action.pending();
    view! {
        <Title text="Register an app" />
        <section class="page page-narrow">
            <div class="page-head">
                <div>
                    <a class="back-link" href="/">"← Fleet"</a>
                    <h1>"Register an app"</h1>
                </div>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    if !user.is_admin().await {
                        return view! { <ErrorNotice error=AppError::Forbidden /> }.into_any();
                    }
                    view! {
                        <ActionForm action attr:id="app-form" attr:class="card form-card app-form">
                            <AppFields initial=AppForm::of(&AppInput::defaults()) editing=false errors />
                            <div class="form-actions">
                                <a class="button button-secondary" href="/">"Cancel"</a>
                                <SubmitButton pending label="Register app" busy="Registering…" />
                            </div>
                        </ActionForm>
                    }
                    .into_any()
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn EditAppPage() -> impl IntoView {
    let user = CurrentUser::get();
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug").unwrap_or_default());
    let app = Resource::new(slug, load_app);
    let action = ServerAction::<UpdateApp>::new();
    let errors = open_when_saved(action);
    crate::pages::focus_errors_of(action, "app-form");
    let pending = action.pending();
    view! {
        <Title text="Edit app" />
        <section class="page page-narrow">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let admin = user.is_admin().await;
                    let detail = match app.await {
                        Ok(detail) => detail,
                        Err(e) => return view! { <ErrorNotice error=e /> }.into_any(),
                    };
                    if !admin {
                        return view! { <ErrorNotice error=AppError::Forbidden /> }.into_any();
                    }
                    let slug = detail.app.slug.clone();
                    let back = format!("/apps/{slug}");
                    view! {
                        <div class="page-head">
                            <div>
                                <a class="back-link" href=back.clone()>{format!("← {}", detail.app.name)}</a>
                                <h1>"Edit " {detail.app.name.clone()}</h1>
                            </div>
                        </div>
                        <ActionForm action attr:id="app-form" attr:class="card form-card app-form">
                            <input type="hidden" name="slug" value=slug />
                            <input type="hidden" name="version" value=detail.updated_at.to_rfc3339() />
                            <AppFields initial=AppForm::of(&detail.app) editing=true errors />
                            <p class="muted small">"Changes apply to the cloud with the app's next deploy."</p>
                            <div class="form-actions">
                                <a class="button button-secondary" href=back>"Cancel"</a>
                                <SubmitButton pending label="Save changes" busy="Saving…" />
                            </div>
                        </ActionForm>
                    }
                    .into_any()
                })}
            </Suspense>
        </section>
    }
}

/// Opens the app's page once `action` saved it; its last failure, for the fields to show.
fn open_when_saved<I: Send + Sync + 'static>(
    action: impl Into<Action<I, Result<String, AppError>>>,
) -> Signal<Option<AppError>> {
    let action = action.into();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(slug)) = action.value().get() {
            navigate(&format!("/apps/{slug}"), Default::default());
        }
    });
    let result = action.value();
    Signal::derive(move || result.with(|r| r.as_ref().and_then(|r| r.as_ref().err().cloned())))
}

#[component]
fn SubmitButton(pending: Memo<bool>, label: &'static str, busy: &'static str) -> impl IntoView {
    let ready = interactive();
    view! {
        <button type="submit" class="button" disabled=move || !ready.get() || pending.get()>
            {move || if pending.get() { busy } else { label }}
        </button>
    }
}

/// The message for `field` in the last answer's error.
fn message(errors: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || errors.with(|e| e.as_ref().and_then(|e| e.field_message(field).map(str::to_owned))))
}

/// The form's fields (named `form[…]`, the server function's argument), filled with `initial`.
#[component]
fn AppFields(initial: AppForm, editing: bool, errors: Signal<Option<AppError>>) -> impl IntoView {
    let other = Signal::derive(move || form_error(&errors.get().map(Err::<(), _>), FIELDS));
    let err = move |field: &'static str| message(errors, field);
    let invalid = move |field: &'static str| {
        let m = message(errors, field);
        move || m.get().map(|_| "true")
    };
    let sizes = size_options(&initial.size);
    let arch = initial.architecture.clone();
    let tool = initial.health_check_tool.clone();
    view! {
        <FormError message=other />
        <fieldset class="form-section">
            <legend>"The app"</legend>
            <div class="form-grid">
                <div class="field">
                    <label for="app-name">"Name"</label>
                    <input id="app-name" class="input" name="form[name]" value=initial.name required maxlength="200"
                        placeholder="Sales dashboard" aria-invalid=invalid("name") aria-describedby="app-name-error" />
                    <FieldError id="app-name-error" message=err("name") />
                </div>
                <div class="field">
                    <label for="app-slug">"Slug"</label>
                    <input id="app-slug" class="input mono" name="form[slug]" value=initial.slug required maxlength="63"
                        readonly=editing placeholder="sales-dashboard" autocomplete="off"
                        aria-invalid=invalid("slug") aria-describedby="app-slug-hint app-slug-error" />
                    <p class="hint" id="app-slug-hint">
                        {if editing { "Names the ECS service; it cannot change." } else { "Lowercase letters, digits and hyphens. Names the ECS service and task family." }}
                    </p>
                    <FieldError id="app-slug-error" message=err("slug") />
                </div>
            </div>
            <div class="field">
                <label for="app-image">"Image"</label>
                <input id="app-image" class="input mono" name="form[image]" value=initial.image required maxlength="255"
                    placeholder="123456789012.dkr.ecr.eu-west-1.amazonaws.com/sales:v1" autocomplete="off"
                    aria-invalid=invalid("image") aria-describedby="app-image-hint app-image-error" />
                <p class="hint" id="app-image-hint">"registry/repo:tag or registry/repo@sha256:…; ECR tags are pinned to their digest at each deploy."</p>
                <FieldError id="app-image-error" message=err("image") />
            </div>
        </fieldset>
        <fieldset class="form-section">
            <legend>"Tasks"</legend>
            <div class="form-grid form-grid-4">
                <div class="field">
                    <label for="app-size">"Size"</label>
                    <select id="app-size" class="input" name="form[size]" aria-invalid=invalid("size") aria-describedby="app-size-error">
                        {sizes}
                    </select>
                    <FieldError id="app-size-error" message=err("size") />
                </div>
                <div class="field">
                    <label for="app-arch">"CPU architecture"</label>
                    <select id="app-arch" class="input" name="form[architecture]" aria-invalid=invalid("architecture")>
                        <option value="x86_64" selected=arch == "x86_64">"x86_64"</option>
                        <option value="arm64" selected=arch == "arm64">"ARM64 (Graviton, cheaper)"</option>
                    </select>
                    <FieldError id="app-arch-error" message=err("architecture") />
                </div>
                <div class="field">
                    <label for="app-port">"Container port"</label>
                    <input id="app-port" class="input" name="form[port]" value=initial.port inputmode="numeric" required
                        aria-invalid=invalid("port") aria-describedby="app-port-error" />
                    <FieldError id="app-port-error" message=err("port") />
                </div>
                <div class="field">
                    <label for="app-count">"Desired tasks"</label>
                    <input id="app-count" class="input" name="form[desired_count]" value=initial.desired_count inputmode="numeric" required
                        aria-invalid=invalid("desired_count") aria-describedby="app-count-error" />
                    <FieldError id="app-count-error" message=err("desired_count") />
                </div>
            </div>
        </fieldset>
        <fieldset class="form-section">
            <legend>"Health"</legend>
            <div class="form-grid">
                <div class="field">
                    <label for="app-health-path">"Health-check path"</label>
                    <input id="app-health-path" class="input mono" name="form[health_check_path]" value=initial.health_check_path required
                        aria-invalid=invalid("health_check_path") aria-describedby="app-health-path-hint app-health-path-error" />
                    <p class="hint" id="app-health-path-hint">"Checked by the load balancer's target group, and by the container check below."</p>
                    <FieldError id="app-health-path-error" message=err("health_check_path") />
                </div>
                <div class="field">
                    <label for="app-health-tool">"Container health check"</label>
                    <select id="app-health-tool" class="input" name="form[health_check_tool]" aria-invalid=invalid("health_check_tool")
                        aria-describedby="app-health-tool-hint">
                        <option value="" selected=tool.is_empty()>"None (load balancer and task state)"</option>
                        <option value="curl" selected=tool == "curl">"curl (the image has curl)"</option>
                        <option value="wget" selected=tool == "wget">"wget (the image has wget)"</option>
                    </select>
                    <p class="hint" id="app-health-tool-hint">"Rocker's Shiny images ship neither: a check that cannot run marks every task unhealthy."</p>
                    <FieldError id="app-health-tool-error" message=err("health_check_tool") />
                </div>
            </div>
            <div class="field">
                <label for="app-tg">"Load-balancer target group ARN " <span class="muted">"(optional)"</span></label>
                <input id="app-tg" class="input mono" name="form[target_group_arn]" value=initial.target_group_arn autocomplete="off"
                    placeholder="arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sales/0123456789abcdef"
                    aria-invalid=invalid("target_group_arn") aria-describedby="app-tg-hint app-tg-error" />
                <p class="hint" id="app-tg-hint">"Set on the service when the first deploy creates it; later changes do not reach an existing service."</p>
                <FieldError id="app-tg-error" message=err("target_group_arn") />
            </div>
        </fieldset>
        <fieldset class="form-section">
            <legend>"Environment and access"</legend>
            <div class="form-grid">
                <div class="field">
                    <label for="app-env">"Environment variables"</label>
                    <textarea id="app-env" class="input mono" name="form[env]" rows="5" placeholder="SHINY_LOG_LEVEL=info"
                        aria-invalid=invalid("env") aria-describedby="app-env-hint app-env-error">{initial.env}</textarea>
                    <p class="hint" id="app-env-hint">"One NAME=value per line. Keep secrets in Secrets Manager, not here."</p>
                    <FieldError id="app-env-error" message=err("env") />
                </div>
                <div class="field">
                    <label for="app-tags">"Tags"</label>
                    <textarea id="app-tags" class="input mono" name="form[tags]" rows="5" placeholder="team=finance"
                        aria-invalid=invalid("tags") aria-describedby="app-tags-hint app-tags-error">{initial.tags}</textarea>
                    <p class="hint" id="app-tags-hint">"One key=value per line, on each new task definition (and on the service when it is created)."</p>
                    <FieldError id="app-tags-error" message=err("tags") />
                </div>
            </div>
            <div class="form-grid">
                <div class="field">
                    <label for="app-task-role">"Task role ARN " <span class="muted">"(optional)"</span></label>
                    <input id="app-task-role" class="input mono" name="form[task_role_arn]" value=initial.task_role_arn autocomplete="off"
                        placeholder="arn:aws:iam::123456789012:role/shiny-task"
                        aria-invalid=invalid("task_role_arn") aria-describedby="app-task-role-error" />
                    <FieldError id="app-task-role-error" message=err("task_role_arn") />
                </div>
                <div class="field">
                    <label for="app-exec-role">"Execution role ARN " <span class="muted">"(optional)"</span></label>
                    <input id="app-exec-role" class="input mono" name="form[execution_role_arn]" value=initial.execution_role_arn autocomplete="off"
                        placeholder="arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
                        aria-invalid=invalid("execution_role_arn") aria-describedby="app-exec-role-error" />
                    <FieldError id="app-exec-role-error" message=err("execution_role_arn") />
                </div>
            </div>
        </fieldset>
    }
}

/// The Fargate sizes, grouped by CPU, with `selected` (`CPU/MEMORY`) chosen.
fn size_options(selected: &str) -> impl IntoView {
    let all = FargateSize::all();
    let mut cpus: Vec<u32> = all.iter().map(|s| s.cpu()).collect();
    cpus.dedup();
    cpus.into_iter()
        .map(|cpu| {
            let options = all
                .iter()
                .filter(|s| s.cpu() == cpu)
                .map(|s| {
                    let value = format!("{}/{}", s.cpu(), s.memory());
                    let is_selected = value == selected;
                    let label = format!("{} vCPU · {} GB", vcpu(s.cpu()), gb(s.memory()));
                    view! { <option value=value selected=is_selected>{label}</option> }
                })
                .collect_view();
            view! { <optgroup label=format!("{} vCPU", vcpu(cpu))>{options}</optgroup> }
        })
        .collect_view()
}

/// CPU units as vCPUs: `0.25`, `1`, `16`.
pub fn vcpu(units: u32) -> String {
    trim_number(f64::from(units) / 1024.0)
}

/// MiB as GB: `0.5`, `2`, `120`.
pub fn gb(mib: u32) -> String {
    trim_number(f64::from(mib) / 1024.0)
}

fn trim_number(n: f64) -> String {
    let s = format!("{n:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_vcpus_and_gigabytes() {
        assert_eq!(
            (vcpu(256), vcpu(512), vcpu(1024), vcpu(16384)),
            ("0.25".into(), "0.5".into(), "1".into(), "16".into())
        );
        assert_eq!((gb(512), gb(1024), gb(122880)), ("0.5".into(), "1".into(), "120".into()));
    }
}

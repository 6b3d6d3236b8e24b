//! Utilisation charts drawn as SVG (no charting library, nothing fetched from a network):
//! the app page's CPU and memory chart with axes, units and a read-out under the pointer,
//! and the Fleet table's sparkline. The geometry is pure and tested.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// The chart's drawing area, in SVG units.
const W: f64 = 640.0;
const H: f64 = 180.0;
/// Room for the y labels on the left and the x labels below.
const LEFT: f64 = 36.0;
const BOTTOM: f64 = 20.0;
/// Room above the plot for the top label.
const TOP: f64 = 8.0;

/// The x of instant `at` within `[from, to]` on the plot.
fn x_of(at: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    let span = (to - from).num_seconds().max(1) as f64;
    let offset = (at - from).num_seconds() as f64;
    LEFT + (offset / span).clamp(0.0, 1.0) * (W - LEFT)
}

/// The y of a percentage (0–100, clamped) on the plot.
fn y_of(percent: f64) -> f64 {
    let plot = H - BOTTOM;
    plot - percent.clamp(0.0, 100.0) / 100.0 * plot
}

/// SVG path data for a series: a line through its points, broken where a point is missing
/// for longer than `gap_secs` (no line is drawn across a period without data).
pub fn path(points: &[(DateTime<Utc>, f64)], from: DateTime<Utc>, to: DateTime<Utc>, gap_secs: i64) -> String {
    let mut d = String::new();
    let mut previous: Option<DateTime<Utc>> = None;
    for &(at, percent) in points {
        let jump = previous.is_none_or(|p| (at - p).num_seconds() > gap_secs);
        d.push_str(&format!("{}{:.1},{:.1} ", if jump { "M" } else { "L" }, x_of(at, from, to), y_of(percent)));
        previous = Some(at);
    }
    d.trim_end().to_owned()
}

/// The point of `points` nearest to the fraction `fx` (0–1) of the time axis.
pub fn nearest(points: &[(DateTime<Utc>, f64)], from: DateTime<Utc>, to: DateTime<Utc>, fx: f64) -> Option<usize> {
    let target = from + chrono::Duration::seconds(((to - from).num_seconds() as f64 * fx.clamp(0.0, 1.0)) as i64);
    points.iter().enumerate().min_by_key(|(_, (at, _))| (*at - target).num_seconds().abs()).map(|(i, _)| i)
}

/// A time label fitting the range: `14:05` within a day, `Mon 14:00` beyond.
fn label(at: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    if to - from > chrono::Duration::days(1) {
        at.format("%a %H:%M").to_string()
    } else {
        at.format("%H:%M").to_string()
    }
}

/// A series in a few words for its text alternative: "average 12%, peak 40%, latest 8%".
pub fn series_words(values: &[f64]) -> Option<String> {
    let (average, peak, latest) = series_stats(values)?;
    Some(format!("average {average:.0}%, peak {peak:.0}%, latest {latest:.0}%"))
}

/// A series' average, peak and latest value; `None` when it is empty.
fn series_stats(values: &[f64]) -> Option<(f64, f64, f64)> {
    let latest = *values.last()?;
    let average = values.iter().sum::<f64>() / values.len() as f64;
    let peak = values.iter().copied().fold(f64::MIN, f64::max);
    Some((average, peak, latest))
}

/// What the utilisation chart shows, in words (its SVG `<desc>`).
fn chart_words(
    cpu: &[(DateTime<Utc>, f64)],
    memory: &[(DateTime<Utc>, f64)],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> String {
    let span = format!("from {} to {} UTC", from.format("%Y-%m-%d %H:%M"), to.format("%Y-%m-%d %H:%M"));
    let values = |s: &[(DateTime<Utc>, f64)]| s.iter().map(|(_, v)| *v).collect::<Vec<_>>();
    match (series_words(&values(cpu)), series_words(&values(memory))) {
        (None, _) => format!("No samples {span}."),
        (Some(c), None) => format!("CPU {span}: {c}. No memory samples."),
        (Some(c), Some(m)) => format!("CPU {span}: {c}. Memory: {m}."),
    }
}

/// CPU and memory utilisation over `[from, to]`, with a read-out of the point under the
/// pointer (or, with the keyboard, of the point the arrow keys choose).
#[component]
pub fn UtilisationChart(
    cpu: Vec<(DateTime<Utc>, f64)>,
    memory: Vec<(DateTime<Utc>, f64)>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    resolution_secs: i64,
) -> impl IntoView {
    let gap = resolution_secs * 3;
    let (cpu_path, memory_path) = (path(&cpu, from, to, gap), path(&memory, from, to, gap));
    let grid = [0.0, 25.0, 50.0, 75.0, 100.0]
        .into_iter()
        .map(|p| {
            let y = y_of(p);
            view! {
                <line class="grid" x1=LEFT y1=y x2=W y2=y />
                <text class="axis" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">{format!("{p:.0}%")}</text>
            }
        })
        .collect_view();
    let ticks = [0.0, 0.5, 1.0]
        .into_iter()
        .map(|f: f64| {
            let at = from + chrono::Duration::seconds(((to - from).num_seconds() as f64 * f) as i64);
            let anchor = if f == 0.0 {
                "start"
            } else if f == 1.0 {
                "end"
            } else {
                "middle"
            };
            view! { <text class="axis" x=x_of(at, from, to) y=H - 4.0 text-anchor=anchor>{label(at, from, to)}</text> }
        })
        .collect_view();
    let hover = RwSignal::new(None::<usize>);
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let points = StoredValue::new(cpu.clone());
    let memory_points = StoredValue::new(memory);
    let on_move = move |ev: leptos::ev::MouseEvent| {
        let Some(el) = svg.get_untracked() else { return };
        let width = f64::from(el.client_width());
        if width <= 0.0 {
            return;
        }
        let fx_svg = f64::from(ev.offset_x()) / width * W;
        let fx = ((fx_svg - LEFT) / (W - LEFT)).clamp(0.0, 1.0);
        hover.set(points.with_value(|p| nearest(p, from, to, fx)));
    };
    let readout = move || {
        hover.get().and_then(|i| points.with_value(|p| p.get(i).copied())).map(|(at, cpu)| {
            let memory = memory_points.with_value(|m| m.iter().find(|(t, _)| *t == at).map(|(_, v)| *v));
            let text = match memory {
                Some(m) => format!("{} UTC · CPU {cpu:.1}% · memory {m:.1}%", at.format("%Y-%m-%d %H:%M")),
                None => format!("{} UTC · CPU {cpu:.1}%", at.format("%Y-%m-%d %H:%M")),
            };
            (x_of(at, from, to), text)
        })
    };
    // The keyboard reads the points too: the chart takes the focus, the arrows move along.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let last = points.with_value(Vec::len).saturating_sub(1);
        if points.with_value(Vec::is_empty) {
            return;
        }
        let at = hover.get_untracked();
        let next = match ev.key().as_str() {
            "ArrowLeft" | "ArrowDown" => at.map_or(last, |i| i.saturating_sub(1)),
            "ArrowRight" | "ArrowUp" => at.map_or(last, |i| (i + 1).min(last)),
            "Home" => 0,
            "End" => last,
            "Escape" => {
                hover.set(None);
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        hover.set(Some(next));
    };
    let empty = cpu.is_empty();
    let words = chart_words(&cpu, &memory_points.get_value(), from, to);
    view! {
        <div class="chart">
            <svg
                node_ref=svg
                // A margin above the plot, so the top label (100%) is not cut off.
                viewBox=format!("0 -{TOP} {W} {}", H + TOP)
                role="img"
                aria-labelledby="utilisation-title utilisation-desc"
                tabindex="0"
                data-testid="utilisation-chart"
                data-points=cpu.len()
                on:mousemove=on_move
                on:mouseleave=move |_| hover.set(None)
                on:keydown=on_key
                on:blur=move |_| hover.set(None)
            >
                <title id="utilisation-title">"CPU and memory utilisation (% of the task's size)"</title>
                <desc id="utilisation-desc">{words}</desc>
                {grid}
                {ticks}
                <path class="series series-memory" d=memory_path />
                <path class="series series-cpu" d=cpu_path />
                {move || readout().map(|(x, _)| view! { <line class="cursor" x1=x y1="0" x2=x y2=H - BOTTOM /> })}
            </svg>
            <p class="chart-readout small" aria-live="polite">
                {move || match readout() {
                    Some((_, text)) => text,
                    None if empty => "No samples in this range yet: they arrive a few minutes after the tasks run.".to_owned(),
                    None => "Point at the chart, or focus it and use the arrow keys, to read a value.".to_owned(),
                }}
            </p>
            <p class="chart-legend small">
                <span class="key key-cpu"></span> "CPU " <span class="key key-memory"></span> "Memory (% of the task's size)"
            </p>
        </div>
    }
}

/// A small line of the last hour's CPU for the Fleet table.
#[component]
pub fn Sparkline(points: Vec<f64>) -> impl IntoView {
    if points.len() < 2 {
        return view! { <span class="muted small">"–"</span> }.into_any();
    }
    let (w, h) = (80.0, 20.0);
    let step = w / (points.len() - 1) as f64;
    let d = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                i as f64 * step,
                h - p.clamp(0.0, 100.0) / 100.0 * h
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    // Its accessible name is its title (one copy per row: the Fleet page has 200).
    let (average, peak, latest) = series_stats(&points).unwrap_or_default();
    let words = format!("CPU over the last hour, now {latest:.0}% (average {average:.0}%, peak {peak:.0}%)");
    view! {
        <svg class="sparkline" viewBox=format!("0 0 {w} {h}") width=w height=h role="img">
            <title>{words}</title>
            <path d=d />
        </svg>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T09:00:00Z").unwrap().with_timezone(&Utc)
            + chrono::Duration::minutes(min)
    }

    #[test]
    fn a_series_is_drawn_left_to_right_bottom_up_and_broken_across_gaps() {
        let (from, to) = (at(0), at(60));
        let d = path(&[(at(0), 0.0), (at(1), 100.0), (at(30), 50.0)], from, to, 180);
        assert_eq!(
            d,
            format!(
                "M{LEFT:.1},{:.1} L{:.1},0.0 M{:.1},{:.1}",
                H - BOTTOM,
                x_of(at(1), from, to),
                x_of(at(30), from, to),
                (H - BOTTOM) / 2.0
            )
        );
        assert_eq!(path(&[], from, to, 180), "");
        assert_eq!(y_of(150.0), 0.0, "clamped");
    }

    #[test]
    fn the_text_alternative_says_what_the_lines_show() {
        assert_eq!(series_words(&[10.0, 40.0, 7.0]).unwrap(), "average 19%, peak 40%, latest 7%");
        assert_eq!(series_words(&[]), None);
        let words = chart_words(&[(at(0), 10.0), (at(5), 30.0)], &[(at(0), 50.0)], at(0), at(60));
        assert_eq!(
            words,
            "CPU from 2026-11-30 09:00 to 2026-11-30 10:00 UTC: average 20%, peak 30%, latest 30%. \
             Memory: average 50%, peak 50%, latest 50%."
        );
        assert!(chart_words(&[], &[], at(0), at(60)).starts_with("No samples from"));
    }

    #[test]
    fn the_pointer_reads_the_nearest_point() {
        let points = [(at(0), 1.0), (at(10), 2.0), (at(60), 3.0)];
        assert_eq!(nearest(&points, at(0), at(60), 0.0), Some(0));
        assert_eq!(nearest(&points, at(0), at(60), 0.2), Some(1));
        assert_eq!(nearest(&points, at(0), at(60), 0.9), Some(2));
        assert_eq!(nearest(&[], at(0), at(60), 0.5), None);
    }
}

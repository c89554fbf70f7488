//! The studio driven like a user, by labels, with egui_kittest: training, pause, live learning
//! rate, scatter selection, sliders, errors and closing.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use latentlab::app::StudioApp;
use latentlab::settings::{BaseNet, ModelKind};
use latentlab::train::DeviceChoice;

fn studio() -> Harness<'static, StudioApp> {
    let mut h = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_eframe(|cc| StudioApp::new(cc, DeviceChoice::Cpu, false).expect("studio"));
    // A small model keeps these tests quick; the studio's defaults are the reference model.
    let s = &mut h.state_mut().settings;
    s.hidden = "128".into();
    s.latent = 8;
    s.epochs = 200;
    h.step();
    h
}

/// Steps frames until `pred` holds (real time passes: the trainer runs on its own thread).
fn step_until(h: &mut Harness<'_, StudioApp>, what: &str, pred: impl Fn(&StudioApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !pred(h.state()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; step {}, status: {}",
            h.state().run().status.step,
            h.state().run().status.last_event
        );
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
}

fn step_for(h: &mut Harness<'_, StudioApp>, d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
}

#[test]
fn train_pause_resume_and_live_learning_rate() {
    let mut h = studio();
    h.get_by_label("Train").click();
    step_until(&mut h, "steps", |a| a.run().status.step > 5);
    step_until(&mut h, "loss points", |a| a.loss.steps() > 5);
    step_until(&mut h, "the triptych", |a| a.triptych_filled());
    step_until(&mut h, "an evaluation", |a| a.loss.evals() > 0);

    // Pause stops the step count.
    h.get_by_label("Pause").click();
    step_until(&mut h, "pause", |a| a.run().paused);
    let paused_at = h.state().run().status.step;
    step_for(&mut h, Duration::from_millis(600));
    assert_eq!(h.state().run().status.step, paused_at);

    // Space resumes (and the button now reads Resume).
    assert!(h.query_by_label("Resume").is_some());
    h.key_press(egui::Key::Space);
    step_until(&mut h, "resume", |a| {
        !a.run().paused && a.run().status.step > paused_at + 3
    });

    // The learning rate, changed while running, reaches the trainer.
    h.state_mut().settings.lr = 3e-4;
    h.step();
    step_until(&mut h, "the new learning rate", |a| {
        a.run().reported_lr == Some(3e-4)
    });

    h.get_by_label("Stop").click();
    step_until(&mut h, "stop", |a| !a.run().active);
    // The frame-time readout measured the frames and the slider decodes.
    let stats = h.state().stats();
    assert!(stats.build.len() > 20, "{}", stats.report());
    assert!(stats.decode.len() > 0, "{}", stats.report());
    assert!(stats.report().contains("p95"));
}

#[test]
fn selecting_a_scatter_point_moves_the_sliders_and_sliders_change_the_image() {
    let mut h = studio();
    train_then_pause(&mut h);

    let target = click_a_point(&mut h, 0);
    let code = h.state().run().latent_code(target).unwrap().to_vec();
    let picked = h.state().selected_point().expect("a selected point");
    let picked_code = h.state().run().latent_code(picked).unwrap().to_vec();
    assert_eq!(h.state().slider_values(), picked_code.as_slice());
    // The nearest point to where we clicked: the target itself or one drawn on top of it.
    let d: f32 = code
        .iter()
        .zip(&picked_code)
        .map(|(a, b)| (a - b).abs())
        .sum();
    assert!(
        picked == target || d < 1.0,
        "picked {picked}, wanted {target}"
    );

    // Dragging a slider changes the decoded image.
    let before = h.state().decoded_sample().unwrap().values.clone();
    drag_slider(&mut h, "z0", 0.3);
    assert_ne!(h.state().slider_values()[0], picked_code[0], "slider moved");
    let after = &h.state().decoded_sample().unwrap().values;
    let change: f32 = before.iter().zip(after).map(|(a, b)| (a - b).abs()).sum();
    assert!(change > 0.1, "decoded image changed by {change}");
}

#[test]
fn sequences_train_in_the_studio_as_curves_and_sliders_redraw_them() {
    let mut h = studio();
    // Choose the data and the model the way a user does, from the two menus.
    choose(&mut h, "Dataset", "Synthetic sequences");
    choose(&mut h, "Model kind", "Sequence (LSTM/GRU)");
    let s = &h.state().settings;
    assert_eq!(s.kind, latentlab::settings::ModelKind::Seq);
    assert_eq!(
        s.loss,
        latentlab::settings::LossKind::Mse,
        "series train on MSE"
    );
    // A small network keeps the test quick.
    let s = &mut h.state_mut().settings;
    s.hidden = "24".into();
    s.latent = 4;
    h.step();
    assert!(h.query_by_label("Cell").is_some() && h.query_by_label("Bidirectional").is_some());

    train_then_pause(&mut h);
    let shape = h.state().run().info.as_ref().unwrap().sample_shape;
    assert_eq!(shape.series().map(|s| s.steps), Some(64));
    assert_eq!(
        h.state().triptych_rows(),
        ["curves"],
        "input and output overlaid"
    );
    h.get_by_label("reconstruction");

    // Dragging a slider changes the decoded curve.
    click_a_point(&mut h, 0);
    let before = h.state().decoded_sample().unwrap().values.clone();
    assert_eq!(before.len(), 64);
    drag_slider(&mut h, "z0", 1.0);
    let after = &h.state().decoded_sample().unwrap().values;
    let change: f32 = before.iter().zip(after).map(|(a, b)| (a - b).abs()).sum();
    assert!(change > 0.1, "decoded curve changed by {change}");
}

/// On the shapes set a β-TCVAE trains in the studio, and the scatter recolours by any of the
/// known factors: one legend entry per level of the chosen factor, every point in one of them.
#[test]
fn the_scatter_colours_by_a_known_factor_on_the_shapes_set() {
    let mut h = studio();
    choose(&mut h, "Dataset", "Shapes (known factors)");
    choose(&mut h, "Model kind", "β-TCVAE");
    assert!(h.query_all_by_label("TC weight β").next().is_some());
    train_then_pause(&mut h);
    let points = h.state().latent_points();
    let by_class = h.state().scatter_series();
    let names: Vec<&str> = by_class.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["square", "ellipse", "heart"]);

    choose(&mut h, "Colour by", "x");
    let by_x = h.state().scatter_series();
    assert!(
        by_x.len() > 8 && by_x.iter().all(|(n, _)| n.starts_with("x ")),
        "{by_x:?}"
    );
    assert_eq!(by_x.iter().map(|(_, c)| c).sum::<usize>(), points);
}

/// A conditional VAE trains in the studio, which opens its Styles view: the style-swap grid
/// (6 style rows × 10 classes) fills while the run is going and changes with later snapshots;
/// convert draws a result for the class chosen; and the attribute slider from one class to
/// another moves the decode from resembling the first class (the decode of its mean code) to
/// resembling the second.
#[test]
fn the_style_views_fill_while_a_cvae_trains_and_convert_and_attributes_answer() {
    let mut h = studio();
    choose(&mut h, "Model kind", "Conditional VAE");
    assert!(h.query_all_by_label("KL weight β").next().is_some());
    h.state_mut().settings.hidden = "128".into();
    h.get_by_label("Train").click();
    let grid_of = |a: &StudioApp| a.styles.grid.as_ref().map(|g| g.values.clone());
    step_until(&mut h, "a style-swap grid while training", |a| {
        a.run().active && a.styles.grid.as_ref().is_some_and(|g| g.len() == 6 * 10)
    });
    let first = grid_of(h.state());
    // On, until the digits are clear (about 10 s on 2 cores), with the grid following.
    step_until(&mut h, "a later snapshot's grid", |a| {
        a.run().status.step > 800 && grid_of(a) != first
    });
    h.get_by_label("Pause").click();
    step_until(&mut h, "pause", |a| a.run().paused);
    h.step();
    // The probes are fitted in the background: the class is readable from the content code,
    // and less from the style code (which loses it over a longer run: 18 % after 30 epochs).
    let last = h.state().run().snapshot.as_ref().map(|s| s.step);
    step_until(&mut h, "probes of the last snapshot", |a| {
        a.styles.probes.is_some_and(|p| Some(p.step) == last)
    });
    let p = h.state().styles.probes.expect("probes");
    let (content, style) = (p.content.unwrap_or(0.0), p.style.unwrap_or(1.0));
    assert!(content > 0.8 && style < content - 0.1, "{p:?}");

    h.get_by_label("Convert").click();
    h.run();
    let before = h.state().styles.converted.clone();
    assert!(before.is_some(), "convert shows a result");
    choose_last(&mut h, "Content from", "7");
    let after = h
        .state()
        .styles
        .converted
        .clone()
        .expect("a converted image");
    assert_eq!(after.len(), 1);
    assert!(
        Some(&after) != before.as_ref(),
        "a new class changes the result"
    );

    h.get_by_label("Attribute vector").click();
    h.run();
    // From the class of the image the slider starts at, to another one.
    let point = h.state().styles.style_point;
    let from = h
        .state()
        .run()
        .snapshot
        .as_ref()
        .expect("a snapshot")
        .latents
        .labels
        .as_ref()
        .expect("labels")[point] as usize;
    let to = (from + 1) % 10;
    let names = h.state().run().class_names().to_vec();
    choose_last(&mut h, "From class", &names[from]);
    choose_last(&mut h, "To class", &names[to]);
    // The slider runs from −0.5 to 1.5: a quarter of the way is 0, three quarters is 1.
    drag_slider(&mut h, "Towards", 0.25);
    let near = h.state().styles.amount;
    let at_start = h.state().styles.attribute.clone().expect("a decode");
    drag_slider(&mut h, "Towards", 0.75);
    let far = h.state().styles.amount;
    let at_end = h.state().styles.attribute.clone().expect("a decode");
    assert!(near.abs() < 0.1 && (far - 1.0).abs() < 0.1, "{near} {far}");
    // The decodes of the two classes' mean codes stand for the classes.
    let (source, target) = {
        let snapshot = h.state().run().snapshot.clone().expect("a snapshot");
        let cloud = &snapshot.latents;
        let labels = cloud.labels.as_ref().expect("labels");
        let means = latentlab::latent::swap::class_means(&cloud.codes, cloud.dim, labels, 10);
        let decode = |c: usize| {
            snapshot
                .decoder
                .decode(&means[c * cloud.dim..(c + 1) * cloud.dim])
                .values
        };
        (decode(from), decode(to))
    };
    let dist = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f32>();
    let (start, end) = (at_start.sample(0), at_end.sample(0));
    assert!(
        dist(start, &source) < dist(start, &target) && dist(end, &target) < dist(end, &source),
        "towards {to}: {} -> {}, from {from}: {} -> {}",
        dist(start, &target),
        dist(end, &target),
        dist(start, &source),
        dist(end, &source)
    );
}

/// The traversal view fills while a β-TCVAE trains on the shapes set, one row of 9 decodes per
/// latent dimension, each row labelled with the known factor its dimension holds most of.
#[test]
fn the_traversal_view_fills_while_training_with_rows_named_by_factor() {
    let mut h = studio();
    choose(&mut h, "Dataset", "Shapes (known factors)");
    choose(&mut h, "Model kind", "β-TCVAE");
    h.state_mut().settings.hidden = "128".into();
    h.get_by_label("Traversals").click();
    h.run();
    h.get_by_label("Train").click();
    let factors = ["shape", "scale", "rotation", "x", "y"];
    step_until(&mut h, "traversals naming a factor while training", |a| {
        let t = &a.traversals;
        a.run().active
            && a.run().status.step > 50
            && t.grid.as_ref().is_some_and(|g| g.len() == 10 * 9)
            && t.row_labels.iter().any(|l| {
                factors
                    .iter()
                    .any(|f| l.split(": ").nth(1).is_some_and(|r| r.starts_with(f)))
            })
    });
    let t = &h.state().traversals;
    assert_eq!(t.row_labels.len(), 10);
    assert!(t.row_labels[3].starts_with("z3: "), "{:?}", t.row_labels);
    assert!(t.caption.contains("MIG"), "{}", t.caption);
    h.get_by_label("Stop").click();
    step_until(&mut h, "stop", |a| !a.run().active);
}

/// The voice panel: a voice model trains on the spoken digits; the scatter draws the speaker
/// code on its own; convert turns a test utterance into another voice (a spectrogram unlike
/// the one in its own voice), the WAV export holds that sound, and Play either plays or, with
/// no sound device (CI), says so, while the window keeps running.
#[test]
fn the_voice_panel_converts_and_play_answers_even_without_a_sound_device() {
    let mut h = studio();
    choose(&mut h, "Dataset", "Spoken digits (8 voices)");
    choose(&mut h, "Model kind", "Voice conversion");
    h.get_by_label("Train").click();
    step_until(&mut h, "a voice snapshot with its two codes", |a| {
        a.run().status.step > 30 && a.run().snapshot.as_ref().is_some_and(|s| s.parts.is_some())
    });
    h.get_by_label("Pause").click();
    step_until(&mut h, "pause", |a| a.run().paused);
    h.step();

    h.get_by_label("Scatter").click();
    h.run();
    choose(&mut h, "Draw", "speaker code");
    assert!(
        h.state().scatter_title().contains("speaker code"),
        "{}",
        h.state().scatter_title()
    );
    assert!(h.state().latent_points() > 0);

    h.get_by_label("Styles").click();
    h.run();
    h.get_by_label("Convert").click();
    h.run();
    assert!(h.state().styles.is_sound());
    let names = h.state().run().class_names().to_vec();
    // Two voices give two spectrograms of the same words.
    choose_last(&mut h, "In the voice of", &names[1]);
    let in_one = h.state().styles.converted.clone().expect("a conversion");
    choose_last(&mut h, "In the voice of", &names[5]);
    let in_other = h.state().styles.converted.clone().expect("a conversion");
    assert!(
        in_one.shape.and_then(|s| s.spectrogram()).is_some(),
        "convert draws a spectrogram"
    );
    let differ = in_one
        .values
        .iter()
        .zip(&in_other.values)
        .map(|(a, b)| (a - b).abs())
        .sum::<f32>()
        / in_one.values.len() as f32;
    assert!(differ > 0.01, "two voices, one spectrogram: {differ}");

    let wav = h.state().styles.conversion_wav().expect("a WAV");
    let sound = latentlab::data::audio::read_wav(&wav).expect("a readable WAV");
    assert!(sound.len() > 1_600, "{} samples", sound.len());
    assert!(
        sound.iter().any(|v| v.abs() > 0.01),
        "the WAV is not silent"
    );

    h.get_by_label("Play conversion").click();
    step_until(&mut h, "Play to answer", |a| {
        a.styles
            .play_message
            .as_deref()
            .is_some_and(|m| m.starts_with("Played") || m.starts_with("Cannot play"))
    });
    let message = h.state().styles.play_message.clone().unwrap_or_default();
    assert!(
        message == "Played the conversion" || message.contains("no sound output"),
        "{message}"
    );
    // The answer is on screen.
    assert!(h.query_by_label(&message).is_some(), "{message}");
    h.get_by_label("Stop").click();
    step_until(&mut h, "stop", |a| !a.run().active);
}

/// A run whose learning rate is raised until it diverges keeps its last finite weights, and the
/// notice offers to resume from them at a tenth of the rate (of the slider's rate, which the
/// user may lower first). One click resumes where the kept weights were (the step count goes
/// on from there, not from 0), and training goes on with finite losses.
#[test]
fn a_diverged_run_resumes_from_its_kept_weights_at_a_lower_learning_rate() {
    let mut h = studio();
    h.get_by_label("Train").click();
    step_until(&mut h, "some steps", |a| a.run().status.step > 30);
    // Adam moves every weight by about the rate: 10^30 overflows at once.
    h.state_mut().settings.lr = 1e30;
    step_until(&mut h, "the divergence", |a| {
        !a.run().active && a.run().status.last_event.starts_with("Failed")
    });
    let kept_at = h.state().run().status.step;
    assert!(kept_at > 30, "{kept_at}");
    h.run();
    assert!(
        h.query_by_label("Resume from the kept weights at learning rate 1.0e29")
            .is_some()
    );
    h.state_mut().settings.lr = 1e-2;
    h.run();
    h.get_by_label("Resume from the kept weights at learning rate 1.0e-3")
        .click();
    // The resumed run repaints for as long as it trains: step until the click took effect
    // rather than waiting for the window to settle.
    step_until(&mut h, "the lower learning rate", |a| a.settings.lr == 1e-3);
    step_until(&mut h, "twenty more steps", |a| {
        a.run().status.step > kept_at + 20 || !a.run().active
    });
    let run = h.state().run();
    assert!(run.active, "{}", run.status.last_event);
    assert!(
        run.steps.iter().all(|s| s.loss.is_finite()),
        "finite losses after resuming"
    );
    h.get_by_label("Stop").click();
    step_until(&mut h, "stop", |a| !a.run().active);
}

/// Like [`choose`], for an item whose label also appears elsewhere in the window (a class
/// name in the legend): picks the popup's entry, the last one drawn.
fn choose_last(h: &mut Harness<'_, StudioApp>, combo: &str, item: &str) {
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, combo)
        .click();
    h.run();
    h.query_all_by_label(item)
        .last()
        .unwrap_or_else(|| panic!("no {item} in {combo}"))
        .click();
    h.run();
}

/// Opens the combo box labelled `combo` and picks `item`, as a user does.
fn choose(h: &mut Harness<'_, StudioApp>, combo: &str, item: &str) {
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, combo)
        .click();
    h.run();
    h.get_by_label(item).click();
    h.run();
}

/// Trains until the scatter has points, then pauses.
fn train_then_pause(h: &mut Harness<'_, StudioApp>) {
    train_then_pause_at(h, 0);
}

/// Trains until a snapshot from at least step `min_step` is shown, then pauses.
fn train_then_pause_at(h: &mut Harness<'_, StudioApp>, min_step: u64) {
    h.get_by_label("Train").click();
    step_until(h, "latent points", |a| {
        a.latent_points() > 100
            && a.run().status.step > 20
            && a.run()
                .snapshot
                .as_ref()
                .is_some_and(|s| s.step >= min_step)
    });
    h.get_by_label("Pause").click();
    step_until(h, "pause", |a| a.run().paused);
    h.step();
    h.step();
}

/// Clicks the `nth` scatter point found inside the plot area (away from the legend); returns it.
fn click_a_point(h: &mut Harness<'_, StudioApp>, nth: usize) -> usize {
    let target = (0..h.state().latent_points())
        .filter(|&i| {
            h.state()
                .scatter_pos(i)
                .is_some_and(|p| p.x > 340.0 && p.x < 650.0 && p.y > 460.0 && p.y < 730.0)
        })
        .nth(nth)
        .expect("a point inside the scatter");
    let pos = h.state().scatter_pos(target).unwrap();
    drag(h, pos, pos);
    h.step();
    target
}

/// Drags the slider labelled `label` from its left end to `fraction` of its width, then
/// steps a frame so the decode follows.
fn drag_slider(h: &mut Harness<'_, StudioApp>, label: &str, fraction: f32) {
    let r = h
        .get_by_role_and_label(egui::accesskit::Role::Slider, label)
        .rect();
    let y = r.center().y;
    let to = (r.left() + r.width() * fraction).min(r.right() - 4.0);
    drag(h, egui::pos2(r.left() + 4.0, y), egui::pos2(to, y));
    h.step();
}

/// Presses the primary button at `from`, moves to `to` and releases there (a click when equal).
fn drag(h: &mut Harness<'_, StudioApp>, from: egui::Pos2, to: egui::Pos2) {
    h.hover_at(from);
    h.step();
    h.drag_at(from);
    h.step();
    if to != from {
        h.hover_at(to);
        h.step();
    }
    h.drop_at(to);
    h.step();
}

#[test]
fn interpolation_manifold_grid_and_export() {
    let mut h = studio();
    train_then_pause(&mut h);

    // Two points, then Interpolate: the strip fills with the requested number of decodes.
    h.get_by_label("Interpolation...").click();
    h.step();
    click_a_point(&mut h, 0);
    h.get_by_label("Use selected as A").click();
    h.step();
    click_a_point(&mut h, 40);
    h.get_by_label("Use selected as B").click();
    h.step();
    assert_ne!(h.state().interpolation.a, h.state().interpolation.b);
    h.get_by_label("Interpolate").click();
    h.step();
    h.step();
    let strip = h.state().interpolation.strip.clone().expect("a strip");
    assert_eq!(strip.len(), h.state().interpolation.steps);
    // Its ends are the two points' own decodes.
    let a = h
        .state()
        .run()
        .latent_code(h.state().interpolation.a.unwrap())
        .unwrap()
        .to_vec();
    let own = h.state().decode(&a).unwrap();
    let diff: f32 = own
        .values
        .iter()
        .zip(strip.sample(0))
        .map(|(x, y)| (x - y).abs())
        .sum();
    assert!(diff < 1e-3, "{diff}");
    let png = super::temp_dir("ui-interp").join("strip.png");
    h.state().interpolation.save(&png).unwrap();
    assert!(image::open(&png).unwrap().width() > 28 * 4 * 3);

    // The 3-D view: dragging orbits it, a click selects a point.
    h.get_by_label("3-D").click();
    h.step();
    h.step();
    assert_eq!(h.state().scatter3d.len(), h.state().latent_points());
    let yaw = h.state().scatter3d.yaw;
    drag(&mut h, egui::pos2(450.0, 600.0), egui::pos2(530.0, 620.0));
    assert!(
        (h.state().scatter3d.yaw - yaw).abs() > 0.3,
        "orbit changed the view"
    );
    let p = (0..h.state().latent_points())
        .filter_map(|i| h.state().scatter3d.screen_pos(i).map(|p| (i, p)))
        .find(|(_, p)| p.x > 340.0 && p.x < 700.0 && p.y > 460.0 && p.y < 730.0)
        .expect("a point in the 3-D view");
    let before = h.state().selected_point();
    drag(&mut h, p.1, p.1);
    let picked = h.state().selected_point().expect("a selection");
    let at = h.state().scatter3d.screen_pos(picked).unwrap();
    assert!(
        at.distance(p.1) <= 10.0,
        "picked a point drawn at {at:?}, clicked {:?}",
        p.1
    );
    assert!(before != Some(picked) || picked == p.0);
    // The legend hides a class, and shows it again.
    let all = h.state().scatter3d.drawn();
    h.get_by_label("7").click();
    h.step();
    h.step();
    assert!(h.state().scatter3d.hidden.contains(&7));
    let fewer = h.state().scatter3d.drawn();
    assert!(fewer < all && fewer > all / 2, "{fewer} of {all} drawn");
    h.get_by_label("7").click();
    h.step();
    h.step();
    assert_eq!(h.state().scatter3d.drawn(), all);

    // The manifold grid has the requested size.
    h.get_by_label("Manifold grid").click();
    h.step();
    h.step();
    let grid = h.state().manifold.grid.clone().expect("a grid");
    let side = h.state().manifold.side;
    assert_eq!(grid.len(), side * side);
    h.state_mut().manifold.side = 6;
    h.get_by_label("Scatter").click();
    h.step();
    h.get_by_label("Manifold grid").click();
    h.step();
    h.step();
    assert_eq!(h.state().manifold.grid.as_ref().unwrap().len(), 36);

    // Export for the Embedding Projector (the folder dialog is the only part not driven here).
    let dir = super::temp_dir("ui-export");
    let msg = h.state().run().export_embeddings(&dir).unwrap();
    assert!(msg.contains("Exported"), "{msg}");
    let meta = std::fs::read_to_string(dir.join("metadata.tsv")).unwrap();
    assert_eq!(meta.lines().count(), 1 + h.state().latent_points());
}

#[test]
fn the_3d_view_maps_the_codes_with_tsne_in_the_background() {
    let mut h = studio();
    // Codes from the first few dozen steps are a blur that no map separates (on a slow
    // machine the pause came at step 21: t-SNE 0.36 against PCA 0.34); later ones are not.
    train_then_pause_at(&mut h, 300);
    h.get_by_label("3-D").click();
    h.step();
    h.step();
    assert!(
        h.state().scatter3d.title().contains("PCA"),
        "{}",
        h.state().scatter3d.title()
    );
    // How well the view keeps the digits apart: the 5-NN class votes that are right.
    let accuracy = |h: &Harness<'_, StudioApp>| {
        let labels = h
            .state()
            .run()
            .snapshot
            .as_ref()
            .unwrap()
            .latents
            .labels
            .clone()
            .unwrap();
        let points = h.state().scatter3d.points().as_flattened().to_vec();
        let votes = latentlab::latent::tsne::knn_votes(&points, 3, &labels, 5);
        votes.iter().zip(&labels).filter(|(v, l)| v == l).count() as f32 / labels.len() as f32
    };
    let pca = accuracy(&h);
    h.get_by_label("t-SNE").click();
    step_until(&mut h, "the t-SNE to start", |a| a.scatter3d.tsne_running());
    step_until(&mut h, "the 3-D t-SNE map", |a| {
        a.scatter3d.title().contains("t-SNE")
    });
    assert_eq!(
        h.state().scatter3d.points().len(),
        h.state().latent_points()
    );
    let tsne = accuracy(&h);
    eprintln!("5-NN class accuracy in the 3-D view: PCA {pca:.3}, t-SNE {tsne:.3}");
    assert!(tsne > pca + 0.05, "t-SNE {tsne} against PCA {pca}");
}

#[test]
fn tsne_runs_in_the_background_and_replaces_the_pca_view() {
    let mut h = studio();
    train_then_pause(&mut h);
    assert!(
        h.state().scatter_title().contains("PCA"),
        "{}",
        h.state().scatter_title()
    );
    h.get_by_label("t-SNE").click();
    step_until(&mut h, "the t-SNE to start", |a| a.tsne_running());
    // The window stays responsive meanwhile: frames keep coming.
    step_until(&mut h, "the t-SNE result", |a| {
        a.scatter_title().contains("t-SNE")
    });
    assert!(!h.state().tsne_running());
    assert!(h.state().latent_points() > 100);
    // Back to PCA at a click; raw dimensions too.
    h.get_by_label("PCA").click();
    h.step();
    h.step();
    assert!(h.state().scatter_title().contains("PCA"));
    h.get_by_label("Raw").click();
    h.step();
    h.step();
    assert!(
        h.state().scatter_title().contains("dimensions z0 and z1"),
        "{}",
        h.state().scatter_title()
    );
    for i in [3, 40] {
        let (p, code) = (
            h.state().scatter_coord(i).unwrap(),
            h.state().run().latent_code(i).unwrap(),
        );
        assert_eq!(p, [code[0] as f64, code[1] as f64]);
    }
    h.get_by_label("Thumbnails").click();
    h.step();
    h.step();
    assert!(h.state().has_thumbnails());
}

#[test]
fn a_change_that_needs_a_new_model_asks_first() {
    let mut h = studio();
    h.get_by_label("Train").click();
    step_until(&mut h, "steps", |a| {
        a.run().status.step > 3 && a.run().latent_dim() == Some(8)
    });
    // Epochs apply to the next run: no question, a note says so, and it stays when the user
    // declines a restart for something else.
    h.state_mut().settings.epochs = 300;
    h.step();
    h.step();
    assert!(h.query_by_label("Keep current model").is_none());
    h.get_by_label("Changed epochs: applies to the next run.");
    // Asked, not restarted; keeping the model puts the setting back.
    h.state_mut().settings.latent = 4;
    h.step();
    h.step();
    h.get_by_label("Keep current model").click();
    h.step();
    h.step();
    assert_eq!(h.state().settings.latent, 8);
    assert_eq!(h.state().settings.epochs, 300);
    assert!(h.query_by_label("Keep current model").is_none());
    assert_eq!(h.state().run().latent_dim(), Some(8));
    // Widths that do not parse (half typed) ask nothing and keep the run going.
    h.state_mut().settings.hidden = "512, x".into();
    step_for(&mut h, Duration::from_millis(300));
    assert!(h.query_by_label("Keep current model").is_none());
    let before = h.state().run().status.step;
    step_until(&mut h, "the run to go on", |a| a.run().status.step > before);
    assert!(h.state().run().active);
    h.state_mut().settings.hidden = "128".into();
    // Accepting restarts with the new latent size.
    h.state_mut().settings.latent = 4;
    h.step();
    h.step();
    h.get_by_label("Restart").click();
    step_until(&mut h, "the new model", |a| {
        a.run().latent_dim() == Some(4) && a.run().status.step > 0
    });
}

/// An in-memory stand-in for eframe's settings file.
#[derive(Default)]
struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

/// A setting a run cannot use is marked where it is set, with the reason first in its hover
/// text, and Train refuses naming it: checked against the data (9 000 MNIST training images),
/// the model and this machine's memory, before anything starts.
#[test]
fn the_setting_a_run_cannot_use_is_marked_and_train_names_it() {
    use latentlab::settings::{BaseNet, BuiltinData, LossKind, ModelKind, Settings};
    type Case<'a> = (&'a dyn Fn(&mut Settings), &'a str, &'a str);
    let cases: [Case; 7] = [
        (&|s| s.device = "tpu".into(), "Device", "not a device"),
        (
            &|s| s.hidden = "512, x".into(),
            "Hidden widths",
            "must be numbers separated by commas",
        ),
        (
            &|s| s.hidden = "1000000".into(),
            "Hidden widths",
            "hidden width is 1000000",
        ),
        (
            &|s| {
                s.kind = ModelKind::Conv;
                s.base = BaseNet::Conv;
                s.hidden = "8, 16, 32".into();
            },
            "Hidden widths",
            "divisible by 8",
        ),
        (&|s| s.lr = 0.0, "Learning rate", "learning rate is 0"),
        (
            &|s| {
                s.data = BuiltinData::SyntheticSeq;
                s.kind = ModelKind::Seq;
                s.base = BaseNet::Seq;
                s.hidden = "32".into();
                s.loss = LossKind::Bce;
            },
            "Loss",
            "use the MSE loss",
        ),
        (
            &|s| {
                s.data = BuiltinData::SyntheticSeq;
                s.kind = ModelKind::Seq;
                s.base = BaseNet::Seq;
                s.hidden = "32".into();
                s.loss = LossKind::Mse;
                s.batch_size = 4000;
            },
            "Batch size",
            "larger than the 3000 training samples",
        ),
    ];
    // A fresh studio for each: egui's tooltip bookkeeping is not what is tested here.
    for (change, row, why) in cases {
        let mut h = studio();
        h.ctx.all_styles_mut(|s| s.interaction.tooltip_delay = 0.0);
        let good = h.state().settings.clone();
        change(&mut h.state_mut().settings);
        h.step();
        h.step();
        assert!(
            h.query_by_label_contains(why).is_none(),
            "{row}: shown unasked"
        );
        // The slider that carries its own label, or a grid row's label in the controls panel
        // (300 points wide; the loss plot has a "Loss" of its own).
        use egui::accesskit::Role;
        let at = match h.query_by_role_and_label(Role::Slider, row) {
            Some(slider) => slider.rect().center(),
            None => h
                .get_all_by_role_and_label(Role::Label, row)
                .map(|n| n.rect())
                .find(|r| r.max.x < 300.0)
                .expect("the row's label")
                .center(),
        };
        h.hover_at(at);
        h.step();
        h.step();
        assert!(
            h.query_by_label_contains(why).is_some(),
            "{row}: its hover text does not say {why:?}"
        );
        h.get_by_label("Train").click();
        h.step();
        h.step();
        let notice = h.state().notice().expect("a notice").to_string();
        assert!(notice.contains(why), "{notice}");
        assert!(!h.state().run().active, "{row}: a run started");
        // Put right, the notice goes with Dismiss, and Train trains.
        h.state_mut().settings = good;
        h.get_by_label("Dismiss").click();
        h.step();
        h.step();
        assert!(
            h.query_by_label_contains(why).is_none(),
            "{row}: still marked"
        );
        h.get_by_label("Train").click();
        h.step();
        assert!(
            h.state().run().active,
            "{row}: put right, Train did not start"
        );
    }
}

/// The Device field sends the next run to the device it names: a server that cannot be used
/// fails that run with a clear message and the studio lives on; back on the CPU, it trains.
#[test]
fn the_device_field_sends_the_next_run_there() {
    let mut h = studio();
    assert_eq!(
        h.state().settings.device,
        "cpu",
        "the command line's device"
    );
    h.state_mut().settings.device = "remote:ws://127.0.0.1:9".into();
    h.get_by_label("Train").click();
    step_until(&mut h, "the run to fail", |a| {
        a.run().status.last_event.starts_with("Failed")
    });
    let message = h.state().notice().expect("a notice").to_string();
    assert!(message.contains("remote"), "{message}");
    assert_eq!(h.state().run().status.step, 0);
    h.step();
    h.get_by_label("Dismiss").click();
    h.step();
    h.state_mut().settings.device = "cpu".into();
    h.get_by_label("Train").click();
    step_until(&mut h, "training on the CPU", |a| a.run().status.step > 5);
}

#[test]
fn settings_survive_a_restart_but_command_line_data_does_not() {
    let mut h = studio();
    {
        let s = &mut h.state_mut().settings;
        s.lr = 3e-4;
        s.kind = latentlab::settings::ModelKind::Vae;
        s.custom_data = Some("idx:/tmp/x.idx".parse().unwrap());
    }
    let mut storage = MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let saved: latentlab::settings::Settings =
        eframe::get_value(&storage, latentlab::app::SETTINGS_KEY).expect("saved settings");
    assert_eq!(saved.lr, 3e-4);
    assert_eq!(saved.kind, latentlab::settings::ModelKind::Vae);
    assert_eq!(saved.custom_data, None);
    assert_eq!(saved.hidden, h.state().settings.hidden);
}

#[test]
fn an_engine_error_shows_a_dismissible_notice_and_the_window_lives_on() {
    let mut h = studio();
    h.state_mut().settings.hidden = "512, oops".into();
    h.step();
    h.get_by_label("Train").click();
    h.step();
    h.step();
    let notice = h.state().notice().expect("a notice").to_string();
    assert!(notice.contains("hidden widths"), "{notice}");
    h.get_by_label("Dismiss").click();
    h.step();
    h.step();
    assert!(h.state().notice().is_none());

    // An error from the engine: a data file that is not there.
    let missing = "/nonexistent/latentlab-images.idx";
    h.state_mut().settings.hidden = "128".into();
    h.state_mut().settings.custom_data = Some(format!("idx:{missing}").parse().unwrap());
    h.step();
    h.get_by_label("Train").click();
    step_until(&mut h, "the engine's error", |a| a.notice().is_some());
    assert!(
        h.state().notice().unwrap().contains(missing),
        "{:?}",
        h.state().notice()
    );
    assert!(!h.state().run().active);
    h.get_by_label("Dismiss").click();
    h.step();
    h.step();
    assert!(
        h.state().run().status.last_event.contains(missing),
        "{}",
        h.state().run().status.last_event
    );

    // The window goes on: a new run starts.
    h.state_mut().settings.custom_data = None;
    h.step();
    h.get_by_label("Train").click();
    step_until(&mut h, "a new run", |a| a.run().status.step > 2);
}

#[test]
fn closing_while_training_returns_quickly_and_leaves_no_thread() {
    let mut h = studio();
    h.get_by_label("Train").click();
    step_until(&mut h, "steps", |a| a.run().status.step > 3);
    let thread = h.state().trainer_liveness();
    assert!(thread.upgrade().is_some(), "the trainer thread runs");
    let t0 = Instant::now();
    drop(h);
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert!(thread.upgrade().is_none(), "the trainer thread has ended");
}

#[test]
fn a_saved_model_opens_in_a_new_studio_and_shows_its_scatter_without_training() {
    let dir = super::temp_dir("ui-open-model");
    let saved = dir.join("model");
    let mut h = studio();
    h.state_mut().settings.epochs = 1;
    h.state_mut().settings.data = latentlab::settings::BuiltinData::Fashion;
    h.step();
    h.get_by_label("Train").click();
    step_until(&mut h, "the run to end", |a| {
        a.run().info.is_some() && !a.run().active && a.run().snapshot.is_some()
    });
    let before = h.state().run().snapshot.clone().expect("a snapshot");
    // Save model of the ended run (the File menu's dialog picks the folder).
    h.state_mut().save_model(&saved);
    assert!(h.state().notice().is_none(), "{:?}", h.state().notice());
    drop(h);

    // A new studio, other settings: Open model restores them and shows the saved codes.
    let mut h = studio();
    h.state_mut().open_model(&saved);
    step_until(&mut h, "the opened model's scatter", |a| {
        a.run().snapshot.is_some() && a.latent_points() > 0
    });
    let s = &h.state().settings;
    assert_eq!(s.data, latentlab::settings::BuiltinData::Fashion);
    assert_eq!((s.hidden.as_str(), s.latent, s.epochs), ("128", 8, 1));
    let after = h.state().run().snapshot.clone().expect("a snapshot");
    assert_eq!(after.step, before.step);
    assert_eq!(after.latents.codes, before.latents.codes);
    step_for(&mut h, Duration::from_millis(300));
    assert_eq!(h.state().run().steps.len(), 0, "nothing trained");

    // A folder that is not a saved model: a notice, and what was shown stays.
    h.state_mut().open_model(&dir);
    assert!(
        h.state()
            .notice()
            .is_some_and(|n| n.contains("Cannot open this model")),
        "{:?}",
        h.state().notice()
    );
    assert!(h.state().run().snapshot.is_some());
}

#[test]
fn settings_files_round_trip_and_a_bad_one_changes_nothing() {
    let dir = super::temp_dir("ui-settings");
    let mut h = studio();
    {
        let s = &mut h.state_mut().settings;
        s.set_kind(
            latentlab::settings::ModelKind::Vae,
            latentlab::settings::BaseNet::Dense,
        );
        s.lr = 2e-3;
        s.epochs = 17;
    }
    h.step();
    let file = dir.join("experiment.toml");
    h.state_mut().save_settings(&file);
    let saved = h.state().settings.clone();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("epochs = 17") && text.contains("kind = \"Vae\""),
        "{text}"
    );

    let mut h = studio();
    h.state_mut().open_settings(&file);
    h.step();
    assert_eq!(h.state().settings.to_config(), saved.to_config());

    std::fs::write(dir.join("bad.toml"), "epochs = 0\n").unwrap();
    h.state_mut().open_settings(&dir.join("bad.toml"));
    let notice = h.state().notice().expect("a notice").to_string();
    assert!(
        notice.contains("bad.toml") && notice.contains("epochs is 0"),
        "{notice}"
    );
    assert_eq!(h.state().settings.epochs, 17);
}

#[test]
fn a_colour_image_folder_trains_in_colour_and_its_skipped_files_are_listed() {
    let dir = super::temp_dir("ui-colour");
    super::folder::colour_shapes(&dir, 40);
    std::fs::write(dir.join("circle/notes.png"), "not a picture").unwrap();
    let mut h = studio();
    // The folder dropped on the window becomes the data.
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(dir.clone())));
    h.step();
    assert_eq!(
        h.state().settings.custom_data,
        Some(latentlab::data::DataSpec::Folder {
            dir: dir.clone(),
            options: Default::default(),
        })
    );
    {
        let s = &mut h.state_mut().settings;
        s.set_kind(
            latentlab::settings::ModelKind::Conv,
            latentlab::settings::BaseNet::Conv,
        );
        s.hidden = "8, 16".into();
    }
    h.step();
    // The folder's own controls show.
    assert!(h.query_by_label("Image size").is_some());
    // Unknown until loaded: the studio's batch of 128 is more than the folder's 108 training
    // images. The run says so, and from then on the studio marks the batch size.
    h.get_by_label("Train").click();
    step_until(&mut h, "the refusal", |a| {
        a.run().status.last_event.contains("training samples")
    });
    let problem = h.state().settings_problem().expect("the batch size marked");
    assert_eq!(problem.field(), latentlab::settings::Field::BatchSize);
    assert!(
        problem
            .to_string()
            .contains("larger than the 108 training samples"),
        "{problem}"
    );
    h.state_mut().settings.batch_size = 32;
    h.step();
    assert!(h.state().settings_problem().is_none());
    if h.query_by_label("Dismiss").is_some() {
        h.get_by_label("Dismiss").click();
        h.step();
    }
    h.get_by_label("Train").click();
    step_until(&mut h, "the triptych", |a| a.triptych_filled());
    let shape = h.state().run().info.as_ref().map(|i| i.sample_shape);
    assert_eq!(shape.and_then(|s| s.image()).map(|i| i.channels), Some(3));
    step_until(&mut h, "the warning", |a| {
        !a.run().status.warnings.is_empty()
    });
    h.get_by_label("1 warning").click();
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("notes.png").is_some(),
        "the list names the file"
    );
    h.get_by_label("Stop").click();
    step_until(&mut h, "stop", |a| !a.run().active);
}

/// A file or folder dropped on the window, as the windowing integration hands it over.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn every_lesson_loads_in_one_click_shows_its_text_and_trains() {
    let mut h = studio();
    let titles: Vec<String> = h
        .state()
        .lesson_titles()
        .iter()
        .map(|t| t.to_string())
        .collect();
    assert_eq!(titles.len(), 10, "{titles:?}");
    // The first one through the menu, as a teacher would.
    h.get_by_label("Lessons").click();
    h.step();
    h.step();
    h.get_by_label(&titles[0]).click();
    h.step();
    for (i, title) in titles.iter().enumerate() {
        if i > 0 {
            h.state_mut().start_lesson(i);
        }
        h.step();
        assert_eq!(
            h.state().lesson().map(|l| l.title.as_str()),
            Some(title.as_str())
        );
        assert!(
            h.query_by_label(title).is_some(),
            "{title}: its text is shown"
        );
        step_until(&mut h, title, |a| a.run().active && a.run().status.step > 0);
        assert!(
            h.state().notice().is_none(),
            "{title}: {:?}",
            h.state().notice()
        );
    }
    let kind = h.state().settings.kind;
    assert_eq!(kind, latentlab::settings::ModelKind::Voice);
    h.get_by_label("Hide").click();
    // The frame that reads the click still lays the text out; the next one moves the buttons.
    h.step();
    h.step();
    assert!(h.state().lesson().is_none());
    h.get_by_label("Stop").click();
    step_until(&mut h, "stop", |a| !a.run().active);
}

#[test]
fn slow_motion_in_the_studio_caps_the_steps_a_second() {
    let mut h = studio();
    h.get_by_label("Slow motion").click();
    h.step();
    assert_eq!(h.state().settings.speed, Some(2.0));
    h.get_by_label("Train").click();
    step_until(&mut h, "the first step", |a| a.run().status.step > 0);
    let (first, t0) = (h.state().run().status.step, Instant::now());
    step_for(&mut h, Duration::from_millis(2500));
    let (taken, secs) = (
        h.state().run().status.step - first,
        t0.elapsed().as_secs_f64(),
    );
    assert!(
        (taken as f64) <= 2.0 * secs + 1.0,
        "{taken} steps in {secs:.2} s at a cap of 2/s"
    );
    // Unticked: full speed, sent to the running model.
    h.get_by_label("Slow motion").click();
    h.step();
    assert_eq!(h.state().settings.speed, None);
    step_until(&mut h, "full speed", |a| {
        a.run().status.last_event.starts_with("Full speed") || a.run().status.step > first + 40
    });
    h.get_by_label("Stop").click();
    step_until(&mut h, "stop", |a| !a.run().active);
}

#[test]
fn presentation_view_enlarges_the_text_folds_the_controls_and_keeps_the_run_buttons() {
    let mut h = studio();
    // On screen, in pixels: egui lays out in points, and the zoom sets pixels per point.
    let height = |h: &Harness<'_, StudioApp>| {
        h.get_by_label("Inputs and reconstructions").rect().height() * h.ctx.pixels_per_point()
    };
    let before = height(&h);
    assert!(h.query_by_label("Latent size").is_some());
    h.key_press(egui::Key::F11);
    h.step();
    h.step();
    assert!(h.state().presenting());
    let after = height(&h);
    // ×1.28 in a 1280-point window (×1.9 on a 1920-pixel projector).
    assert!(
        after > 1.25 * before,
        "the heading grew from {before} to {after}"
    );
    assert!(
        h.query_by_label("Latent size").is_none(),
        "the controls are folded"
    );
    // The run goes on from the menu bar.
    h.get_by_label("Train").click();
    step_until(&mut h, "steps", |a| a.run().status.step > 2);
    h.get_by_label("Stop").click();
    step_until(&mut h, "stop", |a| !a.run().active);
    h.get_by_label("Exit presentation").click();
    h.step();
    h.step();
    assert!(!h.state().presenting());
    assert!((height(&h) - before).abs() < 0.5);
    assert!(h.query_by_label("Latent size").is_some());
}

#[test]
fn on_a_software_renderer_training_draws_few_frames_until_the_mouse_moves() {
    let mut h = studio();
    h.state_mut().assume_software_renderer();
    h.get_by_label("Train").click();
    step_until(&mut h, "steps", |a| a.run().status.step > 0);
    assert_eq!(h.state().frame_cap_ms(), 0, "the click is fresh: full rate");
    step_for(&mut h, Duration::from_millis(1200));
    assert_eq!(
        h.state().frame_cap_ms(),
        250,
        "untouched while training: 4 frames/s"
    );
    assert!(
        h.query_by_label_contains("4 frames/s while training")
            .is_some()
    );
    h.event(egui::Event::PointerMoved(egui::pos2(600.0, 300.0)));
    h.step();
    assert_eq!(h.state().frame_cap_ms(), 0, "the mouse moved: full rate");
    h.get_by_label("Pause").click();
    step_until(&mut h, "pause", |a| a.run().paused);
    step_for(&mut h, Duration::from_millis(1200));
    assert_eq!(
        h.state().frame_cap_ms(),
        0,
        "paused: nothing to save the CPU for"
    );
    h.get_by_label("Stop").click();
    step_until(&mut h, "stop", |a| !a.run().active);
}

#[test]
fn a_drawing_is_encoded_by_the_training_model_and_marked_in_the_scatter() {
    let mut h = studio();
    {
        let s = &mut h.state_mut().settings;
        s.set_kind(
            latentlab::settings::ModelKind::Vae,
            latentlab::settings::BaseNet::Dense,
        );
        s.hidden = "128".into();
    }
    h.step();
    h.get_by_label("Train").click();
    step_until(&mut h, "a snapshot", |a| a.run().snapshot.is_some());
    h.get_by_label("Draw").click();
    // A new window takes a frame to size itself before it shows its content.
    for _ in 0..4 {
        h.step();
    }
    assert!(h.state().draw.open);
    assert!(h.state().draw.encoding.is_none(), "nothing drawn yet");
    // A vertical stroke down the middle of the canvas, as a student draws a 1.
    let top = h
        .get_by_label_contains("Draw with the mouse")
        .rect()
        .left_bottom();
    let from = top + egui::vec2(112.0, 40.0);
    drag(&mut h, from, from + egui::vec2(4.0, 150.0));
    h.step();
    let encoding = h
        .state()
        .draw
        .encoding
        .clone()
        .expect("the drawing is encoded");
    assert_eq!(encoding.code.len(), 2);
    let spread = encoding.spread.expect("a VAE gives its σ");
    assert!(
        spread.iter().all(|s| s.is_finite() && *s > 0.0),
        "{spread:?}"
    );
    let ink: f32 = h.state().draw.sample().expect("a canvas").iter().sum();
    assert!(ink > 10.0, "the stroke inked the canvas ({ink})");
    assert!(h.query_by_label("its reconstruction").is_some());
    // The scatter (a 2-D VAE's raw plane) shows the drawing with its σ ellipses.
    let p = h.state().drawn_point().expect("placed in the scatter");
    assert_eq!(
        [p[0] as f32, p[1] as f32],
        [encoding.code[0], encoding.code[1]]
    );
    h.get_by_label("Clear").click();
    h.step();
    h.step();
    assert!(h.state().draw.encoding.is_none());
    assert!(
        h.query_by_label("Stop")
            .is_some_and(|b| b.rect().left() < 300.0),
        "the window leaves the controls free"
    );
    h.get_by_label("Stop").click();
    step_until(&mut h, "stop", |a| !a.run().active);
}

#[test]
fn the_timeline_replays_earlier_moments_in_every_view_and_returns_to_live() {
    let mut h = studio();
    h.state_mut().settings.latent = 2;
    h.state_mut().settings.epochs = 2;
    h.step();
    h.get_by_label("Train").click();
    step_until(&mut h, "the run to end", |a| {
        !a.run().active && a.run().history.len() >= 3
    });
    let first = h.state().run().history[0].clone();
    let latest = h.state().run().history.last().cloned().expect("history");
    assert!(first.step < latest.step);
    // Play starts the replay from the first moment: every view shows it.
    h.get_by_label("Play").click();
    h.step();
    h.step();
    assert_eq!(
        h.state().run().snapshot.as_ref().map(|s| s.step),
        Some(first.step)
    );
    step_until(&mut h, "the scatter of the first moment", |a| {
        a.scatter_coord(0)
            == Some([
                first.latents.code(0)[0] as f64,
                first.latents.code(0)[1] as f64,
            ])
    });
    // The slider and the reconstructions' title both say which step is shown.
    assert!(
        h.query_all_by_label(&format!("step {}", first.step))
            .count()
            >= 2
    );
    // Live: back to the latest.
    h.get_by_label("Stop replay").click();
    h.step();
    h.get_by_label("Back to live").click();
    h.step();
    h.step();
    assert_eq!(
        h.state().run().snapshot.as_ref().map(|s| s.step),
        Some(latest.step)
    );
    assert_eq!(h.state().run().replay, None);

    // File > Export timeline: a GIF with a frame per kept moment, and a PNG strip of them.
    let dir = super::temp_dir("ui-timeline");
    let (gif, strip) = (dir.join("run.gif"), dir.join("run.png"));
    h.state_mut().export_history(&gif, true);
    h.state_mut().export_history(&strip, false);
    let file = std::io::BufReader::new(std::fs::File::open(&gif).expect("the GIF written"));
    let decoder = image::codecs::gif::GifDecoder::new(file).expect("a GIF");
    let frames = image::AnimationDecoder::into_frames(decoder)
        .collect_frames()
        .expect("readable frames");
    assert_eq!(frames.len(), h.state().run().history.len());
    let strip = image::open(&strip).expect("the strip written");
    let moments = h.state().run().history.len().min(12) as u32;
    // The inputs (and their corruption, when the run adds noise), then a row a moment.
    let head = 1 + u32::from(latest.noisy != latest.inputs);
    assert_eq!(
        strip.height(),
        head * 56 + (head - 1) * 3 + moments * (56 + 3)
    );
    assert!(h.state().run().status.last_event.starts_with("Saved"));
    // A folder that cannot be written: a notice naming it; the history is kept.
    if cfg!(target_os = "linux") {
        let kept = h.state().run().history.len();
        h.state_mut()
            .export_history(std::path::Path::new("/sys/latentlab-test/run.gif"), true);
        let notice = h.state().notice().unwrap_or_default().to_string();
        assert!(notice.contains("/sys/latentlab-test"), "{notice}");
        assert_eq!(h.state().run().history.len(), kept);
    }
}

#[test]
fn export_metrics_writes_the_loss_history_as_the_cli_does() {
    let dir = super::temp_dir("ui-metrics");
    let mut h = studio();
    h.state_mut().settings.epochs = 1;
    h.step();
    h.get_by_label("Train").click();
    step_until(&mut h, "the run to end", |a| {
        !a.run().active && a.run().info.is_some()
    });
    let path = dir.join("metrics.csv");
    h.state_mut().export_metrics(&path);
    let csv = std::fs::read_to_string(&path).expect("written");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "step,epoch,train_loss,train_reconstruction,test_mse,test_reconstruction,elapsed_secs"
        )
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(
        rows.len() as u64,
        h.state().run().status.step,
        "one row per step"
    );
    let evals = rows
        .iter()
        .filter(|r| !r.split(',').nth(4).unwrap_or("").is_empty());
    assert_eq!(evals.count(), h.state().run().evals.len());
}

/// The widgets (buttons, boxes, sliders, tabs) a user can point at in the window as it is now,
/// with where they are and what they are called.
fn pointable_widgets(h: &Harness<'_, StudioApp>) -> Vec<(egui::Rect, String)> {
    use egui::accesskit::Role;
    use egui_kittest::kittest::NodeT as _;
    let roles = [
        Role::Button,
        Role::CheckBox,
        Role::ComboBox,
        Role::Slider,
        Role::SpinButton,
        Role::Tab,
        Role::RadioButton,
    ];
    h.query_all(egui_kittest::kittest::by().predicate(|n| roles.contains(&n.role())))
        .map(|n| {
            let ak = n.accesskit_node();
            let name = ak.label().or_else(|| ak.value()).unwrap_or_default();
            (n.rect(), format!("{:?} {name:?}", ak.role()))
        })
        .collect()
}

/// Points at each of `widgets` in turn; returns those that show no hover text.
fn without_hover_text(
    h: &mut Harness<'_, StudioApp>,
    widgets: &[(egui::Rect, String)],
) -> Vec<String> {
    use egui::accesskit::Role;
    let mut missing = Vec::new();
    for (rect, name) in widgets {
        h.hover_at(rect.center());
        h.step();
        h.step();
        if h.query_by_role(Role::Tooltip).is_none() {
            missing.push(format!("{name} at {:.0?}", rect.center()));
        }
        // Away, so that the next widget's text is its own.
        h.hover_at(egui::pos2(1279.0, 799.0));
        h.step();
    }
    missing
}

/// `Slider "z12"` (or its number box) as `Slider "z…"`: the name every code slider shares.
fn code_slider_name(name: &str) -> Option<String> {
    let (role, label) = name.split_once(' ')?;
    let digits = label.strip_prefix("\"z")?.strip_suffix('"')?;
    digits
        .chars()
        .all(|c| c.is_ascii_digit())
        .then(|| format!("{role} \"z…\""))
}

#[test]
fn every_control_and_view_explains_itself_on_hover() {
    let mut h = studio();
    // Four dimensions: the projections' own controls show (PCA, t-SNE, raw axes).
    h.state_mut().settings.latent = 4;
    h.ctx.all_styles_mut(|s| s.interaction.tooltip_delay = 0.0);
    h.get_by_label("Train").click();
    step_until(&mut h, "two moments on the timeline", |a| {
        a.latent_points() > 100 && a.run().history.len() > 1
    });
    h.get_by_label("Pause").click();
    step_until(&mut h, "pause", |a| a.run().paused);
    let mut missing = Vec::new();
    // The views' titles say what each view shows (before the tabs: Draw opens a window).
    for title in [
        "Loss",
        "Inputs and reconstructions",
        "Latent sliders",
        "Timeline",
    ] {
        // The title in the views, not a control's name in the panel to their left.
        let rect = h
            .query_all_by_role_and_label(egui::accesskit::Role::Label, title)
            .map(|n| n.rect())
            .find(|r| r.left() > 300.0)
            .unwrap_or_else(|| panic!("no view titled {title:?}"));
        missing.extend(without_hover_text(
            &mut h,
            &[(rect, format!("view {title:?}"))],
        ));
    }
    let rect = h.get_by_label_contains("Latent space").rect();
    missing.extend(without_hover_text(
        &mut h,
        &[(rect, "view \"Latent space\"".into())],
    ));
    // A plot's legend entries hide and show its lines; the plot's title explains them.
    let legends = |h: &Harness<'_, StudioApp>| {
        let info = h.state().run().info.clone().expect("a run");
        ["events", "test MSE", "train", "train (raw)"]
            .into_iter()
            .chain(["fraction near zero", "mean |activation|"])
            .map(String::from)
            .chain(info.class_names)
            .chain(info.term_names.iter().map(|t| format!("train {t}")))
            .map(|l| format!("{:?} {l:?}", egui::accesskit::Role::CheckBox))
            .collect::<Vec<_>>()
    };
    // One slider per code number: the first few stand for the rest (which may be scrolled
    // out of sight).
    let same_kind = |name: String| code_slider_name(&name).unwrap_or(name);
    let mut seen = std::collections::HashSet::new();
    // Every tab of the latent views shows its own widgets, and each kind its own settings
    // and views (Draw last: it opens a window over the views).
    let kinds = [
        ModelKind::Dense,
        ModelKind::Sparse,
        ModelKind::Vae,
        ModelKind::Cvae,
    ];
    for (k, kind) in kinds.into_iter().enumerate() {
        if k > 0 {
            h.get_by_label("Stop").click();
            step_until(&mut h, "stop", |a| !a.run().active);
            let s = &mut h.state_mut().settings;
            s.set_kind(kind, BaseNet::Dense);
            s.hidden = "128".into();
            s.latent = 4;
            h.step();
            h.get_by_label("Train").click();
            step_until(&mut h, "a snapshot", |a| {
                a.run().active && a.run().snapshot.as_ref().is_some_and(|s| s.step > 20)
            });
            h.get_by_label("Pause").click();
            step_until(&mut h, "pause", |a| a.run().paused);
        }
        seen.extend(legends(&h));
        let mut tabs = vec!["Scatter", "3-D", "Code activity", "Manifold grid", "Styles"];
        tabs.push("Traversals");
        if k + 1 == kinds.len() {
            tabs.push("Draw");
        }
        for tab in tabs {
            h.get_by_label(tab).click();
            h.step();
            h.step();
            let fresh: Vec<_> = pointable_widgets(&h)
                .into_iter()
                .filter(|(_, name)| seen.insert(same_kind(name.clone())))
                .map(|(rect, name)| (rect, format!("{} {name}", kind.label())))
                .collect();
            missing.extend(without_hover_text(&mut h, &fresh));
        }
    }
    assert!(
        missing.is_empty(),
        "{} without hover text:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// With the GPU path (the window's own wgpu draws the points: one paint callback per view),
/// the shapes a frame holds do not grow with the points, in 2-D and 3-D; egui's shapes do, one
/// per point, which is what the GPU path avoids. Clicks pick points from the spatial grid
/// whichever draws them.
#[test]
fn gpu_scatters_draw_in_one_call_and_clicks_still_pick() {
    // The shapes of a frame of the 2-D and of the 3-D view, with `points` codes.
    let shapes = |points: usize, gpu: bool| {
        let mut h = studio();
        if gpu {
            h.state_mut().assume_gpu_points();
        }
        h.state_mut().settings.max_points = points;
        train_then_pause(&mut h);
        assert_eq!(h.state().latent_points(), points);
        let flat = h.output().shapes.len();
        if gpu {
            let target = click_a_point(&mut h, 3);
            assert_eq!(h.state().selected_point(), Some(target));
        }
        h.get_by_label("3-D").click();
        h.step();
        h.step();
        let deep = h.output().shapes.len();
        if gpu {
            let (i, p) = (0..points)
                .filter_map(|i| h.state().scatter3d.screen_pos(i).map(|p| (i, p)))
                .find(|(_, p)| p.x > 340.0 && p.x < 700.0 && p.y > 460.0 && p.y < 730.0)
                .expect("a point in the 3-D view");
            drag(&mut h, p, p);
            let picked = h.state().selected_point().expect("a selection");
            let at = h.state().scatter3d.screen_pos(picked).unwrap();
            assert!(
                at.distance(p) <= 10.0,
                "picked {picked} at {at:?} for {i} at {p:?}"
            );
        }
        [flat, deep]
    };
    let (few, many) = (shapes(200, true), shapes(1000, true));
    eprintln!("shapes on the GPU path: {few:?} with 200 points, {many:?} with 1000");
    for k in 0..2 {
        assert!(few[k].abs_diff(many[k]) < 50, "{few:?} against {many:?}");
    }
    let (few, many) = (shapes(200, false), shapes(1000, false));
    eprintln!("shapes drawn by egui: {few:?} with 200 points, {many:?} with 1000");
    for k in 0..2 {
        assert!(many[k] >= few[k] + 700, "{few:?} against {many:?}");
    }
}

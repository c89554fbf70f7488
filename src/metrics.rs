//! The loss history as a table: one row per training step, with the test evaluation where one
//! was made. A headless run's `metrics.csv` and the studio's **Export metrics…** are this.

use std::fmt::Write;

use crate::protocol::{EvalReport, StepLoss};

/// One row: a step's training losses and, where the test split was evaluated at that step,
/// its figures.
#[derive(Debug, Clone)]
struct Row {
    step: u64,
    epoch: u64,
    /// NaN for an evaluation whose step's losses were not reported.
    loss: f32,
    terms: [f32; 4],
    test: Option<(f32, Vec<f32>)>,
    elapsed_secs: Option<f64>,
}

/// The history of one run, folded from its `Steps` and `Eval` events in arrival order.
#[derive(Debug, Clone, Default)]
pub struct MetricsLog {
    rows: Vec<Row>,
    term_names: Vec<String>,
}

impl MetricsLog {
    /// An empty history of a model with these loss terms.
    pub fn new(term_names: &[String]) -> Self {
        Self {
            rows: Vec::new(),
            term_names: term_names.to_vec(),
        }
    }

    /// The loss terms' names, in `StepLoss::terms` order.
    pub fn term_names(&self) -> &[String] {
        &self.term_names
    }

    /// Steps' losses, reported when `elapsed_secs` had passed (if known).
    pub fn steps(&mut self, steps: &[StepLoss], elapsed_secs: Option<f64>) {
        self.rows.extend(steps.iter().map(|s| Row {
            step: s.step,
            epoch: s.epoch,
            loss: s.loss,
            terms: s.terms,
            test: None,
            elapsed_secs,
        }));
    }

    /// An evaluation: joins the row of its step when that is the last one, else adds a row.
    pub fn eval(&mut self, report: &EvalReport) {
        let test = Some((report.test_mse, report.terms.clone()));
        match self.rows.last_mut().filter(|r| r.step == report.step) {
            Some(row) => {
                row.test = test;
                row.elapsed_secs = Some(report.elapsed_secs);
            }
            None => self.rows.push(Row {
                step: report.step,
                epoch: report.epoch,
                loss: f32::NAN,
                terms: [f32::NAN; 4],
                test,
                elapsed_secs: Some(report.elapsed_secs),
            }),
        }
    }

    /// Steps and evaluations kept apart (as the studio keeps them), merged by step.
    pub fn from_history(term_names: &[String], steps: &[StepLoss], evals: &[EvalReport]) -> Self {
        let mut log = Self::new(term_names);
        let mut next = 0;
        for e in evals {
            let upto = next + steps[next..].partition_point(|s| s.step <= e.step);
            log.steps(&steps[next..upto], None);
            next = upto;
            log.eval(e);
        }
        log.steps(&steps[next..], None);
        log
    }

    /// The table as CSV: `step,epoch,train_loss,train_<term>…,test_mse,test_<term>…,elapsed_secs`;
    /// a figure not measured at a step is empty.
    pub fn csv(&self) -> String {
        let names = &self.term_names;
        let mut s = String::from("step,epoch,train_loss");
        for t in names {
            let _ = write!(s, ",train_{t}");
        }
        s.push_str(",test_mse");
        for t in names {
            let _ = write!(s, ",test_{t}");
        }
        s.push_str(",elapsed_secs\n");
        let num = |v: f32| {
            if v.is_nan() {
                String::new()
            } else {
                v.to_string()
            }
        };
        for r in &self.rows {
            let _ = write!(s, "{},{},{}", r.step, r.epoch, num(r.loss));
            for v in &r.terms[..names.len().min(4)] {
                let _ = write!(s, ",{}", num(*v));
            }
            match &r.test {
                Some((mse, terms)) => {
                    let _ = write!(s, ",{mse}");
                    for v in terms {
                        let _ = write!(s, ",{v}");
                    }
                }
                None => s.push_str(&",".repeat(1 + names.len())),
            }
            match r.elapsed_secs {
                Some(e) => {
                    let _ = writeln!(s, ",{e:.3}");
                }
                None => s.push_str(",\n"),
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(step: u64, loss: f32) -> StepLoss {
        StepLoss {
            step,
            epoch: 1,
            loss,
            terms: [loss, 0.0, 0.0, 0.0],
        }
    }

    fn eval(step: u64, mse: f32) -> EvalReport {
        EvalReport {
            step,
            epoch: 1,
            test_mse: mse,
            terms: vec![mse * 2.0],
            input_mse: None,
            elapsed_secs: step as f64,
            train_secs: 0.0,
        }
    }

    #[test]
    fn evaluations_join_their_steps_rows_in_either_history_form() {
        let names = vec!["reconstruction".to_string()];
        let steps = [step(1, 0.5), step(2, 0.4), step(3, 0.3)];
        let evals = [eval(2, 0.1), eval(3, 0.05)];
        let merged = MetricsLog::from_history(&names, &steps, &evals).csv();
        assert_eq!(
            merged,
            "step,epoch,train_loss,train_reconstruction,test_mse,test_reconstruction,elapsed_secs\n\
             1,1,0.5,0.5,,,\n\
             2,1,0.4,0.4,0.1,0.2,2.000\n\
             3,1,0.3,0.3,0.05,0.1,3.000\n"
        );
        // As events arrive: the same table.
        let mut live = MetricsLog::new(&names);
        live.steps(&steps[..2], Some(1.5));
        live.eval(&evals[0]);
        live.steps(&steps[2..], Some(2.5));
        live.eval(&evals[1]);
        let live = live.csv();
        assert_eq!(live.lines().nth(1), Some("1,1,0.5,0.5,,,1.500"));
        assert_eq!(
            live.lines().skip(2).collect::<Vec<_>>(),
            merged.lines().skip(2).collect::<Vec<_>>()
        );
        // An evaluation of a step whose losses were not reported gets a row of its own.
        let mut only = MetricsLog::new(&names);
        only.eval(&eval(7, 0.2));
        assert_eq!(only.csv().lines().nth(1), Some("7,1,,,0.2,0.4,7.000"));
    }
}

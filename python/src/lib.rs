//! The `hyperssl._hyperssl` extension module: the library's fit, predict, save and load over
//! numpy arrays. The scikit-learn style classes are Python (`python/hyperssl`), on top of this.
//!
//! Training runs on a thread of its own with the GIL released, while the calling thread waits
//! and looks for Ctrl-C (Python's signal handlers run there); on KeyboardInterrupt the training's
//! stop token is stopped, the thread ends after its current step and the exception is raised.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hyperssl::data::{LabelMap, RawArray, Samples, Scene};
use hyperssl::prelude::{CheckedConfig, Cpu, CpuTrain, Device, Error, ExperimentConfig, LabelledSpectra, Trained};
use hyperssl::train::interrupt::{stoppable, StopToken};
use hyperssl::train::Progress;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArray3, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3, PyUntypedArrayMethods};
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Where an error arose: reading or writing files (OSError for what is wrong with them), or
/// fitting and predicting on arrays (ValueError).
#[derive(Clone, Copy)]
enum Doing {
    Files,
    Arrays,
}

fn py_error(e: Error, doing: Doing) -> PyErr {
    let message = e.to_string();
    match (e, doing) {
        (Error::Interrupted { .. }, _) => PyKeyboardInterrupt::new_err(message),
        (Error::Io { .. }, _) | (_, Doing::Files) => PyOSError::new_err(message),
        (Error::Training(_), _) => PyRuntimeError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// The starting configuration a base name stands for.
fn base_config(base: &str) -> PyResult<ExperimentConfig> {
    match base {
        "scene" => Ok(ExperimentConfig::default()),
        "rows" => Ok(ExperimentConfig::rows()),
        "spectral" => Ok(ExperimentConfig::spectral()),
        other => Err(PyValueError::new_err(format!("unknown base configuration {other:?}: scene, rows or spectral"))),
    }
}

/// A Python value as a TOML value (None: the setting removed, so an optional one is unset).
fn toml_value(name: &str, v: &Bound<'_, PyAny>) -> PyResult<Option<toml::Value>> {
    if v.is_none() {
        return Ok(None);
    }
    // bool before int: Python's True is an int too.
    Ok(Some(if v.is_instance_of::<PyBool>() {
        toml::Value::Boolean(v.extract()?)
    } else if v.is_instance_of::<PyInt>() {
        toml::Value::Integer(v.extract()?)
    } else if v.is_instance_of::<PyFloat>() {
        toml::Value::Float(v.extract()?)
    } else if v.is_instance_of::<PyString>() {
        toml::Value::String(v.extract()?)
    } else if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for item in v.try_iter()? {
            items.push(toml_value(name, &item?)?.ok_or_else(|| PyValueError::new_err(format!("setting {name}: None inside a list")))?);
        }
        toml::Value::Array(items)
    } else {
        return Err(PyValueError::new_err(format!("setting {name}: a {} is not a setting's value", v.get_type().name()?)));
    }))
}

/// The value of setting `name` (dotted, as in config.toml) in `table`.
fn setting<'a>(table: &'a toml::Table, name: &str) -> Option<&'a toml::Value> {
    let (path, leaf) = name.rsplit_once('.').unwrap_or(("", name));
    let mut t = table;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        t = t.get(part)?.as_table()?;
    }
    t.get(leaf)
}

/// `base` with the settings of `settings` (dotted names as in a run's config.toml, such as
/// "train.epochs" or "m2.hidden_classifier") put in, then checked, for the CPU.
fn configured(base: &str, settings: Option<&Bound<'_, PyDict>>) -> PyResult<CheckedConfig> {
    let start = base_config(base)?.on(Device::Cpu);
    let mut table = toml::Table::try_from(&start).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let mut wanted = Vec::new();
    for (key, value) in settings.into_iter().flat_map(|d| d.iter()) {
        let name: String = key.extract().map_err(|_| PyValueError::new_err("setting names are strings"))?;
        let value = toml_value(&name, &value)?;
        let mut parts: Vec<&str> = name.split('.').collect();
        let leaf = parts.pop().unwrap_or_default();
        let mut t = &mut table;
        for p in parts {
            t = t.entry(p).or_insert_with(|| toml::Value::Table(toml::Table::new())).as_table_mut().ok_or_else(|| PyValueError::new_err(format!("unknown setting {name:?}")))?;
        }
        match value {
            // An integer where the setting is a number with a fraction is that number.
            Some(toml::Value::Integer(i)) if matches!(t.get(leaf), Some(toml::Value::Float(_))) => t.insert(leaf.into(), toml::Value::Float(i as f64)),
            Some(v) => t.insert(leaf.into(), v),
            None => t.remove(leaf),
        };
        let set = t.get(leaf).cloned();
        wanted.push((name.clone(), set));
    }
    let config: ExperimentConfig = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| PyValueError::new_err(format!("invalid settings: {}", e.message())))?;
    // A name the configuration does not have would be dropped without a word: refuse it.
    let back = toml::Table::try_from(&config).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    for (name, value) in wanted {
        if setting(&back, &name) != value.as_ref() {
            return Err(PyValueError::new_err(format!("unknown setting {name:?}")));
        }
    }
    config.checked().map_err(|e| py_error(e, Doing::Arrays))
}

/// One line on stderr, redrawn at every evaluation: a bar of the epochs done, the bound and the
/// validation accuracy where there is one. (M1+M2 draws it for M1, then for M2.)
fn progress_bar(p: &Progress) {
    use std::io::Write;
    const WIDTH: usize = 30;
    let done = (p.epoch * WIDTH).checked_div(p.max_epochs).unwrap_or(WIDTH).min(WIDTH);
    let accuracy = if p.row.valid_accuracy.is_finite() { format!(", validation accuracy {:.3}", p.row.valid_accuracy) } else { String::new() };
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r[{}{}] epoch {}/{}: bound {:.3}{accuracy}\x1b[K", "#".repeat(done), ".".repeat(WIDTH - done), p.epoch, p.max_epochs, p.row.bound_minibatch);
    let _ = err.flush();
}

/// Runs `fit` on a thread of its own, the GIL released, stopping it on Ctrl-C; with `verbose`,
/// a progress bar on stderr.
fn train_interruptibly<T: Send>(py: Python<'_>, verbose: bool, fit: impl FnOnce(&mut dyn FnMut(&Progress)) -> hyperssl::Result<T> + Send) -> PyResult<T> {
    let token = StopToken::new();
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let mut shown = false;
            let mut report = |p: &Progress| {
                if verbose {
                    progress_bar(p);
                    shown = true;
                }
            };
            let result = stoppable(&token, || fit(&mut report));
            if shown {
                eprintln!();
            }
            result
        });
        loop {
            if py.detach(|| {
                for _ in 0..20 {
                    if worker.is_finished() {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                false
            }) {
                break;
            }
            if let Err(interrupt) = py.check_signals() {
                token.stop();
                let _ = py.detach(|| worker.join());
                return Err(interrupt);
            }
        }
        match worker.join() {
            Ok(result) => result.map_err(|e| py_error(e, Doing::Arrays)),
            Err(_) => Err(PyRuntimeError::new_err("hyperssl: training failed unexpectedly (a bug: please report it)")),
        }
    })
}

/// Rows of a 2-D array in row-major order: the array's own memory when it is laid out so.
fn rows_of<'a>(x: &'a PyReadonlyArray2<'_, f32>) -> std::borrow::Cow<'a, [f32]> {
    hyperssl::data::array::row_major(x.as_array())
}

/// A height x width x bands cube as a scene, with a label map (0 = unlabelled) when given.
fn scene_of(cube: &PyReadonlyArray3<'_, f32>, labels: Option<&PyReadonlyArray2<'_, u32>>) -> PyResult<Scene> {
    let shape = cube.shape().to_vec();
    let source = Path::new("<array>");
    let pixels: Vec<f32> = cube.as_array().iter().copied().collect();
    let scene = Scene::from_array(&RawArray::new(shape.clone(), Samples::F32(pixels)), source).map_err(|e| py_error(e, Doing::Arrays))?;
    let Some(labels) = labels else { return Ok(scene) };
    if labels.shape() != &shape[..2] {
        return Err(PyValueError::new_err(format!("labels of shape {:?} for a cube of {} x {} pixels", labels.shape(), shape[0], shape[1])));
    }
    let values: Vec<u32> = labels.as_array().iter().copied().collect();
    let map = LabelMap::from_values(shape[0], shape[1], &values).map_err(|e| py_error(e, Doing::Arrays))?;
    scene.with_labels(map, source).map_err(|e| py_error(e, Doing::Arrays))
}

/// What a prediction returns to Python: the classes and the probabilities, as numpy arrays.
type Predicted<'py, C, P> = (Bound<'py, C>, Bound<'py, P>);

/// A scene for Python: its cube, its label map and its class names.
type LabelledCube<'py> = (Bound<'py, PyArray3<f32>>, Bound<'py, PyArray2<u32>>, Vec<String>);

/// A fitted model: a run folder's content in memory.
#[pyclass(module = "hyperssl._hyperssl", name = "Model", frozen)]
struct Model {
    inner: Trained<Cpu>,
}

#[pymethods]
impl Model {
    /// Stored label value of each class, in the order of the probabilities' columns.
    #[getter]
    fn classes(&self) -> Vec<u32> {
        self.inner.classes.values.clone()
    }

    #[getter]
    fn class_names(&self) -> Vec<String> {
        self.inner.classes.names.clone()
    }

    /// Bands of the spectra the model takes.
    #[getter]
    fn bands(&self) -> usize {
        self.inner.scaler.bands()
    }

    /// Whether the model reads each pixel's neighbours (it then predicts whole cubes only).
    #[getter]
    fn spatial(&self) -> bool {
        self.inner.spatial.is_some()
    }

    /// The model's configuration as the TOML of a run's config.toml.
    #[getter]
    fn config(&self) -> String {
        self.inner.config.to_toml()
    }

    /// Dense class index (int64) and class probabilities of every row of spectra.
    fn predict_rows<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f32>) -> PyResult<Predicted<'py, PyArray1<i64>, PyArray2<f32>>> {
        let (n, k) = (x.shape()[0], self.inner.classes.values.len());
        let rows = rows_of(&x);
        let (classes, probabilities) = py.detach(|| self.inner.predict_rows(&rows)).map_err(|e| py_error(e, Doing::Arrays))?;
        let classes: Vec<i64> = classes.into_iter().map(|c| c as i64).collect();
        let probabilities = ndarray::Array2::from_shape_vec((n, k), probabilities).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok((classes.into_pyarray(py), probabilities.into_pyarray(py)))
    }

    /// Class map (stored label values, height x width) and class probabilities (height x width
    /// x classes: the classifier's own, or with `map_probabilities` those the map was decided
    /// from, label propagation's where it ran) of a cube; the map with label propagation and
    /// the graph cut when the model has them.
    #[pyo3(signature = (cube, map_probabilities=false))]
    fn predict_scene<'py>(&self, py: Python<'py>, cube: PyReadonlyArray3<'py, f32>, map_probabilities: bool) -> PyResult<Predicted<'py, PyArray2<u32>, PyArray3<f32>>> {
        let scene = scene_of(&cube, None)?;
        let (h, w, k) = (scene.height, scene.width, self.inner.classes.values.len());
        let (map, classifier) = py.detach(|| self.inner.predict_map(&scene, &Default::default())).map_err(|e| py_error(e, Doing::Arrays))?;
        let probabilities = if map_probabilities { map.probabilities(&classifier).to_vec() } else { classifier };
        let map = ndarray::Array2::from_shape_vec((h, w), self.inner.label_values(&map.classes)).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        let probabilities = ndarray::Array3::from_shape_vec((h, w, k), probabilities).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok((map.into_pyarray(py), probabilities.into_pyarray(py)))
    }

    /// Means of M1's q(z|x) of every row of spectra (models with an M1).
    fn m1_features_rows<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f32>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let n = x.shape()[0];
        let rows = rows_of(&x);
        let (mean, _) = py.detach(|| self.inner.m1_features_of_rows(&rows, &Default::default())).map_err(|e| py_error(e, Doing::Arrays))?;
        let latent = mean.len().checked_div(n).unwrap_or(0);
        let mean = ndarray::Array2::from_shape_vec((n, latent), mean).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(mean.into_pyarray(py))
    }

    /// Writes the model as a run folder (which must not hold a run yet).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.save(&path)).map_err(|e| py_error(e, Doing::Files))
    }
}

/// Fits on rows of spectra (n x bands, float32) with one label per row (uint32, 0 = unlabelled).
#[pyfunction]
#[pyo3(signature = (x, labels, base, settings=None, verbose=false))]
fn fit_rows(py: Python<'_>, x: PyReadonlyArray2<'_, f32>, labels: PyReadonlyArray1<'_, u32>, base: &str, settings: Option<&Bound<'_, PyDict>>, verbose: bool) -> PyResult<Model> {
    let config = configured(base, settings)?;
    let bands = x.shape()[1];
    let rows = rows_of(&x);
    let labels = labels.as_array().to_vec();
    let inner = train_interruptibly(py, verbose, |progress| hyperssl::pipeline::fit::fit_rows_with_progress::<CpuTrain>(LabelledSpectra { x: &rows, bands, labels: &labels }, &config, progress, &Default::default()))?;
    Ok(Model { inner })
}

/// Fits on a cube (height x width x bands, float32) with its label map (height x width,
/// uint32, 0 = unlabelled).
#[pyfunction]
#[pyo3(signature = (cube, labels, base, settings=None, verbose=false))]
fn fit_scene(py: Python<'_>, cube: PyReadonlyArray3<'_, f32>, labels: PyReadonlyArray2<'_, u32>, base: &str, settings: Option<&Bound<'_, PyDict>>, verbose: bool) -> PyResult<Model> {
    let config = configured(base, settings)?;
    let scene = scene_of(&cube, Some(&labels))?;
    let inner = train_interruptibly(py, verbose, |progress| hyperssl::pipeline::fit::fit_scene_with_progress::<CpuTrain>(&scene, &config, progress, &Default::default()))?;
    Ok(Model { inner })
}

/// Reads a model from a run folder (saved from Python or trained by the command line).
#[pyfunction]
fn load(py: Python<'_>, path: PathBuf) -> PyResult<Model> {
    let inner = py.detach(|| Trained::<Cpu>::load(&path, &Default::default())).map_err(|e| py_error(e, Doing::Files))?;
    Ok(Model { inner })
}

/// The checked configuration `base` with `settings`, as the TOML of a run's config.toml (for
/// `hyperssl train --config`).
#[pyfunction]
#[pyo3(signature = (base, settings=None))]
fn config_toml(base: &str, settings: Option<&Bound<'_, PyDict>>) -> PyResult<String> {
    Ok(configured(base, settings)?.to_toml())
}

/// The embedded Indian Pines scene: cube (145 x 145 x 200, float32), label map (uint32,
/// 0 = unlabelled) and class names.
#[pyfunction]
fn indian_pines<'py>(py: Python<'py>) -> PyResult<LabelledCube<'py>> {
    let scene = hyperssl::data::embedded::indian_pines().map_err(|e| py_error(e, Doing::Files))?;
    let labels = scene.labels.as_ref().expect("the embedded scene has ground truth");
    let names = labels.names.clone();
    let map = ndarray::Array2::from_shape_vec((scene.height, scene.width), labels.to_values()).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let cube = ndarray::Array3::from_shape_vec((scene.height, scene.width, scene.bands), scene.pixels).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok((cube.into_pyarray(py), map.into_pyarray(py), names))
}

#[pymodule]
fn _hyperssl(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add_function(wrap_pyfunction!(fit_rows, m)?)?;
    m.add_function(wrap_pyfunction!(fit_scene, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(config_toml, m)?)?;
    m.add_function(wrap_pyfunction!(indian_pines, m)?)?;
    Ok(())
}

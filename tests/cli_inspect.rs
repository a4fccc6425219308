//! `hyperssl inspect` on real files and on bad ones.

mod common;
use common::{hyperssl, shared, stderr, stdout};

const COUNTS: [(&str, &str); 16] = [
    ("1", "46"),
    ("2", "1,428"),
    ("3", "830"),
    ("4", "237"),
    ("5", "483"),
    ("6", "730"),
    ("7", "28"),
    ("8", "478"),
    ("9", "20"),
    ("10", "972"),
    ("11", "2,455"),
    ("12", "593"),
    ("13", "205"),
    ("14", "1,265"),
    ("15", "386"),
    ("16", "93"),
];

fn class_rows(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            (t.len() >= 4 && t[0].parse::<u32>().is_ok() && t[t.len() - 1].contains('.')).then(|| (t[0].to_string(), t[t.len() - 2].to_string()))
        })
        .collect()
}

#[test]
fn indian_pines_npy_and_mat_labels_agree() {
    let (Some(img), Some(gt), Some(mat)) = (
        shared("indian_pines/Indian_pines_corrected.npy"),
        shared("indian_pines/Indian_pines_gt.npy"),
        shared("indian_pines/indian_pines_gt.mat"),
    ) else {
        return;
    };
    let a = hyperssl(&["inspect", img.to_str().unwrap(), "--labels", gt.to_str().unwrap()]);
    assert!(a.status.success(), "{}", stderr(&a));
    let out = stdout(&a);
    assert!(out.contains("145 x 145 x 200"), "{out}");
    assert!(out.contains("10,249 pixels in 16 classes"), "{out}");
    assert!(out.contains("uint16") && out.contains("955 .. 9604"), "{out}");
    let want: Vec<(String, String)> = COUNTS.iter().map(|(v, c)| (v.to_string(), c.to_string())).collect();
    assert_eq!(class_rows(&out), want);
    let b = hyperssl(&["inspect", img.to_str().unwrap(), "--labels", mat.to_str().unwrap()]);
    assert!(b.status.success(), "{}", stderr(&b));
    assert_eq!(class_rows(&stdout(&b)), want, "labels from the .mat differ from the .npy");
}

#[test]
fn embedded_scene_has_names_and_the_same_counts() {
    let o = hyperssl(&["inspect"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("145 x 145 x 200") && out.contains("Soybean-mintill") && out.contains("10,249"));
    assert_eq!(class_rows(&out).len(), 16);
}

#[test]
fn majority_class_warning() {
    let dir = tempfile::tempdir().unwrap();
    // 4 x 4 image, 3 bands; labels: 10 of class 1, 2 of class 2.
    let img = dir.path().join("img.npy");
    let lab = dir.path().join("lab.npy");
    let mut a = b"\x93NUMPY\x01\x00".to_vec();
    let mut h = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4, 3), }".to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    a.extend_from_slice(&(h.len() as u16).to_le_bytes());
    a.extend_from_slice(h.as_bytes());
    for i in 0..48 {
        a.extend_from_slice(&(i as f32).to_le_bytes());
    }
    std::fs::write(&img, &a).unwrap();
    let mut l = b"\x93NUMPY\x01\x00".to_vec();
    let mut h = "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 4), }".to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    l.extend_from_slice(&(h.len() as u16).to_le_bytes());
    l.extend_from_slice(h.as_bytes());
    l.extend_from_slice(&[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 0, 0, 0, 0]);
    std::fs::write(&lab, &l).unwrap();
    let o = hyperssl(&["inspect", img.to_str().unwrap(), "--labels", lab.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("warning: class 'class 1' holds 83.3% of the labels"), "{out}");
}

#[test]
fn bad_input_exits_2_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(std::path::PathBuf, Vec<u8>, &str)> = vec![
        (dir.path().join("garbage.npy"), b"not numpy at all".to_vec(), "NUMPY"),
        (dir.path().join("truncated.npy"), b"\x93NUMPY\x01\x00\x76\x00{'descr': '<u2', 'fortran_order': False, 'shape': (10, 10, 3), }".to_vec(), ""),
        (dir.path().join("empty.mat"), Vec::new(), ""),
        (dir.path().join("scene.xyz"), b"123".to_vec(), "unknown file type"),
        (dir.path().join("broken.hdf5"), b"\x89HDF\r\n\x1a\n garbage".to_vec(), ""),
    ];
    for (path, bytes, needle) in cases {
        std::fs::write(&path, bytes).unwrap();
        let o = hyperssl(&["inspect", path.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", path.display());
        assert!(err.contains(path.file_name().unwrap().to_str().unwrap()), "error must name the file: {err}");
        assert!(err.contains(needle), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
    }
    let o = hyperssl(&["inspect", "/definitely/not/here.npy"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/definitely/not/here.npy"));
}

#[test]
fn label_map_of_the_wrong_shape_is_refused() {
    let Some(img) = shared("indian_pines/Indian_pines_corrected.npy") else { return };
    let dir = tempfile::tempdir().unwrap();
    let lab = dir.path().join("small.npy");
    let mut l = b"\x93NUMPY\x01\x00".to_vec();
    let mut h = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }".to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    l.extend_from_slice(&(h.len() as u16).to_le_bytes());
    l.extend_from_slice(h.as_bytes());
    l.extend_from_slice(&[0, 1, 2, 0, 1, 2]);
    std::fs::write(&lab, &l).unwrap();
    let o = hyperssl(&["inspect", img.to_str().unwrap(), "--labels", lab.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("small.npy") && err.contains("2 x 3") && err.contains("145 x 145"), "{err}");
}

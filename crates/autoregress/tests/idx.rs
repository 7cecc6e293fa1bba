use autoregress::data::idx::{IdxArray, IdxError, Images, labels_from_idx};

fn sample_images() -> Images {
    Images { count: 3, rows: 4, cols: 5, pixels: (0..60).map(|i| (i * 7 % 256) as u8).collect() }
}

#[test]
fn a_written_file_reads_back_identical() {
    let images = sample_images();
    let bytes = images.to_idx();
    assert_eq!(&bytes[..4], &[0, 0, 0x08, 3]);
    assert_eq!(&bytes[4..8], &3u32.to_be_bytes());
    assert_eq!(Images::from_idx(&bytes).unwrap(), images);
    let labels = IdxArray { dims: vec![4], data: vec![1, 2, 3, 9] }.to_bytes();
    assert_eq!(labels_from_idx(&labels).unwrap(), vec![1, 2, 3, 9]);
}

#[test]
fn each_bad_file_gives_its_own_error() {
    let good = sample_images().to_idx();
    let mut magic = good.clone();
    magic[0] = 0x1f;
    assert!(matches!(Images::from_idx(&magic), Err(IdxError::BadMagic(_))));
    let mut float = good.clone();
    float[2] = 0x0d;
    assert_eq!(Images::from_idx(&float), Err(IdxError::UnsupportedType(0x0d)));
    let truncated = &good[..good.len() - 1];
    assert_eq!(
        Images::from_idx(truncated),
        Err(IdxError::Truncated { expected: good.len(), found: good.len() - 1 })
    );
    assert!(matches!(Images::from_idx(&good[..10]), Err(IdxError::Truncated { .. })));
    // An empty file is said to be empty, not "truncated".
    assert_eq!(Images::from_idx(&[]), Err(IdxError::Empty));
    assert_eq!(IdxArray::parse(&[]), Err(IdxError::Empty));
    assert!(IdxError::Empty.to_string().contains("empty (0 bytes)"));
    let mut long = good.clone();
    long.push(0);
    assert!(matches!(Images::from_idx(&long), Err(IdxError::TrailingBytes { .. })));
    let labels = IdxArray { dims: vec![4], data: vec![0; 4] }.to_bytes();
    assert_eq!(Images::from_idx(&labels), Err(IdxError::WrongRank { expected: 3, found: 1 }));
    // The errors say what was found, in the words a user reads.
    assert!(IdxError::BadMagic([1, 2, 3, 4]).to_string().contains("[01, 02, 03, 04]"), "{}", IdxError::BadMagic([1, 2, 3, 4]));
    assert!(IdxError::UnsupportedType(13).to_string().contains("0x0d"), "{}", IdxError::UnsupportedType(13));
}

#[test]
fn the_page_digits_header_announces_its_own_count() {
    // The page's test digits (48 MNIST test images): the count comes from the header.
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/assets/test-digits.idx")).unwrap();
    let images = Images::from_idx(&bytes).unwrap();
    assert_eq!((images.count, images.rows, images.cols), (48, 28, 28));
    assert!(images.pixels.iter().any(|&p| p > 200));
}

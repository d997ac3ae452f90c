//! One small in-place sort for the plugin's two sorts (the schema's name
//! index, a sync's incident numbers): core's `sort` and `sort_unstable`
//! together linked ~10 KB of code into the component, for lists of at
//! most a few thousand items sorted once per session or per sync.

/// Sorts `v` ascending (a heap sort: `O(n log n)`, not stable, which
/// neither caller needs: their items are all distinct or all alike).
pub fn sort<T: Ord>(v: &mut [T]) {
    let n = v.len();
    for start in (0..n / 2).rev() {
        sift_down(v, start, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

/// Moves `v[root]` down the max-heap `v[..end]` to its place.
fn sift_down<T: Ord>(v: &mut [T], mut root: usize, end: usize) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && v[child] < v[child + 1] {
            child += 1;
        }
        if v[root] >= v[child] {
            return;
        }
        v.swap(root, child);
        root = child;
    }
}

#[cfg(test)]
mod tests {
    use super::sort;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sorts_as_core_does(mut v in proptest::collection::vec(any::<u64>(), 0..200)) {
            let mut expected = v.clone();
            expected.sort_unstable();
            sort(&mut v);
            prop_assert_eq!(v, expected);
        }

        #[test]
        fn sorts_pairs(mut v in proptest::collection::vec(("[a-c]{0,3}", 0usize..5), 0..50)) {
            let mut expected = v.clone();
            expected.sort();
            sort(&mut v);
            prop_assert_eq!(v, expected);
        }
    }

    #[test]
    fn small_lists() {
        let mut v: Vec<u64> = vec![];
        sort(&mut v);
        let mut v = vec![3u64, 1, 2, 2];
        sort(&mut v);
        assert_eq!(v, [1, 2, 2, 3]);
    }
}

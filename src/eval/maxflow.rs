//! Maximum flow and minimum cut on a directed graph with a source and a sink (Dinic's
//! algorithm: breadth-first levels, then blocking flows along them, with an explicit stack).
//!
//! Written here rather than taken from a crate: the registry's graph crates offer
//! Edmonds-Karp on dense matrices, far too slow for a graph per pixel, and the graph-cut
//! regulariser needs only this.

use std::collections::VecDeque;

/// A flow network over nodes `0..n`; the source and sink are extra nodes added internally.
pub struct FlowGraph {
    n: usize,
    /// Edges as (head, capacity); edge `e ^ 1` is the reverse of edge `e`.
    head: Vec<u32>,
    capacity: Vec<f64>,
    /// Outgoing edges of every node, filled by `finish`.
    adjacency: Vec<Vec<u32>>,
}

impl FlowGraph {
    pub fn new(n: usize) -> Self {
        FlowGraph { n, head: Vec::new(), capacity: Vec::new(), adjacency: vec![Vec::new(); n + 2] }
    }

    fn source(&self) -> usize {
        self.n
    }

    fn sink(&self) -> usize {
        self.n + 1
    }

    fn add(&mut self, from: usize, to: usize, forward: f64, backward: f64) {
        let e = self.head.len() as u32;
        self.head.extend([to as u32, from as u32]);
        self.capacity.extend([forward.max(0.0), backward.max(0.0)]);
        self.adjacency[from].push(e);
        self.adjacency[to].push(e + 1);
    }

    /// Cutting node `i` off the source (putting it on the sink side) costs `to_sink_side`;
    /// keeping it on the source side costs `to_source_side`.
    pub fn add_terminal(&mut self, i: usize, to_sink_side: f64, to_source_side: f64) {
        let (s, t) = (self.source(), self.sink());
        if to_sink_side > 0.0 {
            self.add(s, i, to_sink_side, 0.0);
        }
        if to_source_side > 0.0 {
            self.add(i, t, to_source_side, 0.0);
        }
    }

    /// An edge `i -> j` of capacity `forward` (cut when i is on the source side and j on the
    /// sink side) and `j -> i` of capacity `backward`.
    pub fn add_edge(&mut self, i: usize, j: usize, forward: f64, backward: f64) {
        if forward > 0.0 || backward > 0.0 {
            self.add(i, j, forward, backward);
        }
    }

    /// Runs the maximum flow; returns its value and, for every node, whether it is on the sink
    /// side of a minimum cut (not reachable from the source in the residual graph).
    pub fn min_cut(mut self) -> (f64, Vec<bool>) {
        let (s, t) = (self.source(), self.sink());
        let nodes = self.n + 2;
        let mut flow = 0.0;
        let mut level = vec![u32::MAX; nodes];
        let mut next = vec![0usize; nodes];
        loop {
            if !self.levels(&mut level) {
                break;
            }
            next.iter_mut().for_each(|v| *v = 0);
            loop {
                let pushed = self.augment(s, t, &level, &mut next);
                if pushed <= 0.0 {
                    break;
                }
                flow += pushed;
            }
        }
        self.levels(&mut level);
        (flow, (0..self.n).map(|i| level[i] == u32::MAX).collect())
    }

    /// Breadth-first levels from the source over edges with residual capacity; whether the
    /// sink is reached.
    fn levels(&self, level: &mut [u32]) -> bool {
        level.iter_mut().for_each(|l| *l = u32::MAX);
        let (s, t) = (self.source(), self.sink());
        level[s] = 0;
        let mut queue = VecDeque::from([s]);
        while let Some(v) = queue.pop_front() {
            for &e in &self.adjacency[v] {
                let u = self.head[e as usize] as usize;
                if level[u] == u32::MAX && self.capacity[e as usize] > 1e-12 {
                    level[u] = level[v] + 1;
                    queue.push_back(u);
                }
            }
        }
        level[t] != u32::MAX
    }

    /// Finds one source-sink path along increasing levels (depth first, resuming each node's
    /// edge list where it stopped) and pushes its bottleneck; 0 when there is none.
    fn augment(&mut self, s: usize, t: usize, level: &[u32], next: &mut [usize]) -> f64 {
        let mut path: Vec<u32> = Vec::new();
        let mut v = s;
        loop {
            if v == t {
                let bottleneck = path.iter().map(|&e| self.capacity[e as usize]).fold(f64::INFINITY, f64::min);
                for &e in &path {
                    self.capacity[e as usize] -= bottleneck;
                    self.capacity[(e ^ 1) as usize] += bottleneck;
                }
                return bottleneck;
            }
            let edges = &self.adjacency[v];
            let mut advanced = false;
            while next[v] < edges.len() {
                let e = edges[next[v]];
                let u = self.head[e as usize] as usize;
                if self.capacity[e as usize] > 1e-12 && level[u] == level[v] + 1 {
                    path.push(e);
                    v = u;
                    advanced = true;
                    break;
                }
                next[v] += 1;
            }
            if !advanced {
                // A dead end: retreat and skip the edge that led here.
                let Some(e) = path.pop() else { return 0.0 };
                v = self.head[(e ^ 1) as usize] as usize;
                next[v] += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The cheapest cut by trying every assignment of the nodes to the two sides.
    fn brute_force(n: usize, terminals: &[(f64, f64)], edges: &[(usize, usize, f64, f64)]) -> f64 {
        (0..1u32 << n)
            .map(|mask| {
                let sink_side = |i: usize| mask >> i & 1 == 1;
                let t: f64 = terminals.iter().enumerate().map(|(i, &(a, b))| if sink_side(i) { a } else { b }).sum();
                let p: f64 = edges
                    .iter()
                    .map(|&(i, j, f, b)| match (sink_side(i), sink_side(j)) {
                        (false, true) => f,
                        (true, false) => b,
                        _ => 0.0,
                    })
                    .sum();
                t + p
            })
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn the_flow_equals_the_cheapest_cut_of_random_graphs() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for case in 0..200 {
            let n = rng.random_range(1..9);
            let terminals: Vec<(f64, f64)> = (0..n).map(|_| (rng.random_range(0.0..3.0), rng.random_range(0.0..3.0))).collect();
            let edges: Vec<(usize, usize, f64, f64)> = (0..rng.random_range(0..2 * n + 1))
                .map(|_| (rng.random_range(0..n), rng.random_range(0..n), rng.random_range(0.0..2.0), rng.random_range(0.0..2.0)))
                .filter(|e| e.0 != e.1)
                .collect();
            let mut g = FlowGraph::new(n);
            for (i, &(a, b)) in terminals.iter().enumerate() {
                g.add_terminal(i, a, b);
            }
            for &(i, j, f, b) in &edges {
                g.add_edge(i, j, f, b);
            }
            let (flow, sides) = g.min_cut();
            let best = brute_force(n, &terminals, &edges);
            assert!((flow - best).abs() < 1e-9, "case {case}: flow {flow}, cheapest cut {best}");
            // The returned sides are a cut of that cost.
            let cost: f64 = terminals.iter().enumerate().map(|(i, &(a, b))| if sides[i] { a } else { b }).sum::<f64>()
                + edges.iter().map(|&(i, j, f, b)| match (sides[i], sides[j]) {
                    (false, true) => f,
                    (true, false) => b,
                    _ => 0.0,
                }).sum::<f64>();
            assert!((cost - best).abs() < 1e-9, "case {case}: cut {cost}, cheapest {best}");
        }
    }

    #[test]
    fn a_long_chain_does_not_exhaust_the_stack() {
        let n = 200_000;
        let mut g = FlowGraph::new(n);
        g.add_terminal(0, 1.0, 0.0);
        g.add_terminal(n - 1, 0.0, 1.0);
        for i in 0..n - 1 {
            g.add_edge(i, i + 1, 2.0, 0.0);
        }
        assert_eq!(g.min_cut().0, 1.0);
    }
}

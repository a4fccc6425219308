//! The fused operations under autodiff: one graph node each, whose backward pass is the inner
//! backend's fused gradient.

use burn::backend::autodiff::{
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{unary, Backward, Ops, OpsKind},
    Autodiff, NodeId,
};
use burn::tensor::{Tensor, TensorPrimitive};

use super::Backend;

impl<B: Backend, C: CheckpointStrategy> Backend for Autodiff<B, C> {
    fn softplus(x: Tensor<Self, 2>) -> Tensor<Self, 2> {
        #[derive(Debug)]
        struct Softplus;

        impl<B: Backend> Backward<B, 1> for Softplus {
            type State = NodeId;

            fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
                let x = inner::<B>(checkpointer.retrieve_node_output(ops.state));
                unary::<B, _>(ops.parents, ops.node, grads, |grad| {
                    B::softplus_backward(x, inner::<B>(grad)).into_primitive().tensor()
                });
            }
        }

        let x = x.into_primitive().tensor();
        let out = match Softplus.prepare::<C>([x.node.clone()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = prep.checkpoint(&x);
                prep.finish(state, B::softplus(inner::<B>(x.primitive.clone())).into_primitive().tensor())
            }
            OpsKind::UnTracked(prep) => prep.finish(B::softplus(inner::<B>(x.primitive)).into_primitive().tensor()),
        };
        Tensor::from_primitive(TensorPrimitive::Float(out))
    }
}

fn inner<B: Backend>(t: B::FloatTensorPrimitive) -> Tensor<B, 2> {
    Tensor::from_primitive(TensorPrimitive::Float(t))
}

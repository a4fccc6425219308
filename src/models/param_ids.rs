//! Parameter ids numbered in the order a module lists its parameters.
//!
//! burn draws a random id for every parameter it creates, and saved model files carry the ids:
//! two runs that reach the same weights wrote files that differed in those bytes alone. With
//! ids numbered from the module's layout, identical runs write identical files.

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::tensor::{backend::Backend, Tensor};

struct Numbering {
    next: u64,
}

impl<B: Backend> ModuleMapper<B> for Numbering {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (_, tensor, mapper) = param.consume();
        let id = ParamId::from(self.next);
        self.next += 1;
        Param::from_mapped_value(id, tensor, mapper)
    }
}

/// `module` with its parameters' ids numbered 0, 1, 2, ... in the module's order.
pub fn numbered<B: Backend, M: Module<B>>(module: M) -> M {
    module.map(&mut Numbering { next: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{M1Config, M2Config, M1, M2};
    use burn::backend::{Autodiff, Flex};
    use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};

    type B = Autodiff<Flex>;

    fn bytes<M: Module<B>>(m: &M) -> Vec<u8> {
        Recorder::<B>::record(&NamedMpkBytesRecorder::<FullPrecisionSettings>::new(), m.clone().into_record(), ()).unwrap()
    }

    fn ids<M: Module<B>>(m: &M) -> Vec<ParamId> {
        struct Ids(Vec<ParamId>);
        impl burn::module::ModuleVisitor<B> for Ids {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
                self.0.push(param.id);
            }
        }
        let mut v = Ids(Vec::new());
        m.visit(&mut v);
        v.0
    }

    #[test]
    fn models_built_alike_save_to_the_same_bytes() {
        let dev = Default::default();
        let (mean, var) = (vec![0.5f32; 6], vec![0.01f32; 6]);
        let m1 = || M1::<B>::new(&M1Config::default(), 6, 3, &dev).init_output(&mean, &var, 0.1);
        let m2 = || M2::<B>::new(&M2Config::default(), 6, 4, 3, &dev).init_output(&mean, &var, 0.1);
        assert_eq!(bytes(&m1()), bytes(&m1()));
        assert_eq!(bytes(&m2()), bytes(&m2()));
        let want: Vec<ParamId> = (0..ids(&m2()).len() as u64).map(ParamId::from).collect();
        assert_eq!(ids(&m2()), want);
    }

    #[test]
    fn numbering_keeps_the_values_and_training_still_finds_gradients() {
        let dev = Default::default();
        let m = M2::<B>::new(&M2Config::default(), 6, 4, 3, &dev);
        let x = Tensor::<B, 2>::ones([2, 6], &dev);
        let before = crate::models::tensors::to_vec(m.classify(x.clone()));
        let m = numbered(m);
        let out = m.classify(x);
        assert_eq!(crate::models::tensors::to_vec(out.clone()), before);
        let grads = out.sum().backward();
        assert_eq!(burn::optim::GradientsParams::from_grads(grads, &m).len(), 2 * 2);
    }
}

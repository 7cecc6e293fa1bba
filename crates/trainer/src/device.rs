//! Picking the backend: a hardware GPU through wgpu when there is one, else Burn's fastest CPU
//! backend (flex). A software adapter (llvmpipe, SwiftShader) is slower than flex, so "auto"
//! never picks it; asking for wgpu explicitly takes whatever adapter wgpu offers.

use anyhow::{Context, Result, bail};
use autoregress::burn::tensor::Device;
use autoregress::burn::tensor::wgpu::wgpu::DeviceType;
use clap::ValueEnum;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// wgpu on a hardware GPU if present, else flex
    Auto,
    /// wgpu (Vulkan, Metal, DX12): GPU, or a software adapter if that is all there is
    Wgpu,
    /// Burn's flex CPU backend (multi-threaded)
    Flex,
    /// Burn's ndarray CPU backend
    Ndarray,
}

/// A device ready to compute on, with a name for reports.
#[derive(Clone, Debug)]
pub struct Chosen {
    pub device: Device,
    pub name: String,
}

struct Adapter {
    device: Device,
    name: String,
    hardware: bool,
}

fn wgpu_adapter() -> Result<Adapter> {
    // wgpu can panic deep inside driver set-up; turn that into an error too.
    let init = std::panic::catch_unwind(|| Device::wgpu_options().init_with_setup());
    let (device, setup) = match init {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => bail!("no wgpu adapter could be opened: {e}"),
        Err(_) => bail!("no wgpu adapter could be opened: the graphics driver set-up failed"),
    };
    let info = setup.adapter.get_info();
    let hardware = matches!(
        info.device_type,
        DeviceType::DiscreteGpu | DeviceType::IntegratedGpu | DeviceType::VirtualGpu
    );
    let kind = if hardware { "GPU" } else { "software adapter" };
    Ok(Adapter { device, name: format!("wgpu {kind} {} ({:?})", info.name, info.backend), hardware })
}

pub fn flex() -> Chosen {
    Chosen { device: Device::flex(), name: "flex (CPU)".into() }
}

#[allow(deprecated)]
pub fn ndarray() -> Chosen {
    Chosen { device: Device::ndarray(), name: "ndarray (CPU)".into() }
}

pub fn choose(backend: Backend) -> Result<Chosen> {
    Ok(match backend {
        Backend::Flex => flex(),
        Backend::Ndarray => ndarray(),
        Backend::Wgpu => {
            let a = wgpu_adapter().context("--device wgpu was asked for")?;
            Chosen { device: a.device, name: a.name }
        }
        Backend::Auto => match wgpu_adapter() {
            Ok(a) if a.hardware => Chosen { device: a.device, name: a.name },
            _ => flex(),
        },
    })
}

/// Every backend this machine can run, for benchmarks: flex, ndarray, and wgpu if it opens.
pub fn all_available() -> Vec<Chosen> {
    let mut all = vec![flex(), ndarray()];
    if let Ok(a) = wgpu_adapter() {
        all.push(Chosen { device: a.device, name: a.name });
    }
    all
}

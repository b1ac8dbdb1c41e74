import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ortLibraryDir } from './ort.js';

export type Device = 'cpu' | 'cuda' | 'tensorrt';
export const DEVICES: readonly Device[] = ['cpu', 'cuda', 'tensorrt'];

export type ProviderName = 'tensorrt' | 'cuda' | 'cpu';

export interface DeviceOptions {
  readonly device: Device;
  /** GPU index for cuda and tensorrt. */
  readonly gpu?: number;
}

/** Execution providers tried in order for a device; CPU always closes the list. */
export function providerOrder(device: Device): ProviderName[] {
  switch (device) {
    case 'tensorrt':
      return ['tensorrt', 'cuda', 'cpu'];
    case 'cuda':
      return ['cuda', 'cpu'];
    default:
      return ['cpu'];
  }
}

const PROVIDER_LIBRARY: Record<Exclude<ProviderName, 'cpu'>, string> = {
  cuda: 'libonnxruntime_providers_cuda.so',
  tensorrt: 'libonnxruntime_providers_tensorrt.so',
};

export interface ProviderPlan {
  readonly providers: ProviderName[];
  /** One line per provider left out, naming it and why. */
  readonly warnings: string[];
}

/** Why a provider can't be used on this install, or undefined when its library is present. */
export function providerMissing(name: ProviderName, libraryDir = ortLibraryDir()): string | undefined {
  if (name === 'cpu') return undefined;
  if (process.platform !== 'linux' && process.platform !== 'win32') return `${name} execution provider is not built for ${process.platform}`;
  const lib = process.platform === 'win32' ? PROVIDER_LIBRARY[name].replace(/^lib/, '').replace(/\.so$/, '.dll') : PROVIDER_LIBRARY[name];
  if (!existsSync(join(libraryDir, lib))) return `${name} execution provider is not installed (${lib} missing; see the README's GPU section)`;
  return undefined;
}

/** The providers to ask for, with a warning for each one that is missing here. */
export function planProviders(device: Device, libraryDir?: string): ProviderPlan {
  const providers: ProviderName[] = [];
  const warnings: string[] = [];
  for (const name of providerOrder(device)) {
    const missing = providerMissing(name, libraryDir);
    if (missing) warnings.push(`${missing}; falling back`);
    else providers.push(name);
  }
  const fellTo = providers[0];
  if (warnings.length && fellTo) warnings[warnings.length - 1] = warnings[warnings.length - 1]!.replace(/falling back$/, `falling back to ${fellTo}`);
  return { providers, warnings };
}

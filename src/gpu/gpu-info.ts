/** A GPU as nvidia-smi reports it: training plans and local generation both size themselves by it. */
export interface GpuInfo {
  index: number;
  name: string;
  totalMiB: number;
  freeMiB: number;
}

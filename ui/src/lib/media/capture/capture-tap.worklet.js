// The microphone's samples for the window's Opus encoder: the first channel, gathered into
// 20 ms blocks (960 samples at 48 kHz, one Opus frame each) and posted to the page with their
// level. Fewer, larger messages keep a busy page from falling behind the audio.
const BLOCK = 960;

class CaptureTap extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(BLOCK);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    let offset = 0;
    while (offset < channel.length) {
      const take = Math.min(BLOCK - this.filled, channel.length - offset);
      this.block.set(channel.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === BLOCK) {
        let sum = 0;
        for (let i = 0; i < BLOCK; i += 1) sum += this.block[i] * this.block[i];
        const block = this.block;
        this.port.postMessage({ block, rms: Math.sqrt(sum / BLOCK) }, [block.buffer]);
        this.block = new Float32Array(BLOCK);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('capture-tap', CaptureTap);

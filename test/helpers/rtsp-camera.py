#!/usr/bin/python3
"""A live RTSP camera on 127.0.0.1 for tests and benchmarks: GStreamer's RTSP server (Debian's
gir1.2-gst-rtsp-server-1.0 and python3-gi) serving a moving test pattern as H.264 (x264, zero
latency, a keyframe a second) with AAC audio, over RTP/UDP and RTP/TCP alike.

    /usr/bin/python3 test/helpers/rtsp-camera.py --port 8554 --size 320x180 --fps 25

Prints "ready rtsp://127.0.0.1:PORT/cam" on stdout once it listens.
"""
import argparse
import signal
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--size', default='320x180')
    p.add_argument('--fps', type=int, default=25)
    p.add_argument('--mount', default='/cam')
    p.add_argument('--pattern', default='ball')
    p.add_argument('--no-audio', action='store_true')
    p.add_argument('--shared', action='store_true', help='one encoder for every client')
    a = p.parse_args()
    w, h = a.size.split('x')
    Gst.init(None)
    video = (f'videotestsrc is-live=true pattern={a.pattern} ! video/x-raw,width={w},height={h},framerate={a.fps}/1 '
             f'! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={a.fps} ! rtph264pay name=pay0 pt=96')
    audio = '' if a.no_audio else ' audiotestsrc is-live=true wave=sine ! audioconvert ! avenc_aac ! rtpmp4gpay name=pay1 pt=97'
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(f'( {video}{audio} )')
    # one media pipeline per client: gst-rtsp-server 1.22 aborts (gst_rtsp_media_get_rates
    # assertion) when several clients set up a shared media at the same moment, as pipelines
    # reconnecting together do
    factory.set_shared(a.shared)
    server = GstRtspServer.RTSPServer()
    server.set_address('127.0.0.1')
    server.set_service(str(a.port))
    server.get_mount_points().add_factory(a.mount, factory)
    if server.attach(None) == 0:
        sys.exit(f'rtsp-camera: cannot listen on 127.0.0.1:{a.port}')
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f'ready rtsp://127.0.0.1:{a.port}{a.mount}', flush=True)
    loop.run()


if __name__ == '__main__':
    main()

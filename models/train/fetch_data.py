"""Training photos from Debian packages: download with apt, extract, pick the listed photographs, write
the data manifest (package, version, file, licence from the package's copyright file, size, sha256).

    /usr/bin/python3 models/train/fetch_data.py [--work models/train/work]

The images stay under the (git-ignored) work folder; only photos.tsv (the choice) and
data-manifest.json (what was found, with checksums and licences) are committed.
"""
import argparse
import fnmatch
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
Image.MAX_IMAGE_PIXELS = None


def read_selection(path):
    rows = []
    for line in open(path, encoding='utf-8'):
        if line.startswith('#') or not line.strip() or line.startswith('package\t'):
            continue
        package, file, split = line.rstrip('\n').split('\t')
        if split not in ('train', 'val'):
            raise SystemExit(f'{path}: split must be train or val, got {split!r} for {file}')
        rows.append({'package': package, 'file': file, 'split': split})
    return rows


def download(package, debs):
    found = glob.glob(os.path.join(debs, f'{package}_*.deb'))
    if found:
        return found[0]
    subprocess.run(['apt-get', 'download', package], cwd=debs, check=True, stdout=subprocess.DEVNULL)
    found = glob.glob(os.path.join(debs, f'{package}_*.deb'))
    if not found:
        raise SystemExit(f'apt-get download {package} gave no .deb (run apt-get update?)')
    return found[0]


def extract(deb, root):
    if not os.path.isdir(root):
        tmp = root + '.tmp'
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(os.path.dirname(tmp), exist_ok=True)  # dpkg-deb -x makes the last folder only
        subprocess.run(['dpkg-deb', '-x', deb, tmp], check=True)
        os.rename(tmp, root)
    return root


def deb_version(deb):
    return subprocess.run(['dpkg-deb', '-f', deb, 'Version'], capture_output=True, text=True, check=True).stdout.strip()


def from_edj(edj_path, image, cache):
    """enlightenment themes keep their photos inside .edj files: edje_decc (libedje-bin) takes them out."""
    if shutil.which('edje_decc') is None:
        raise SystemExit('edje_decc is missing: apt-get install libedje-bin (enlightenment .edj photos need it)')
    stem = os.path.splitext(os.path.basename(edj_path))[0]
    out = os.path.join(cache, stem)
    if not os.path.exists(os.path.join(out, image)):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(['edje_decc', os.path.abspath(edj_path), '-no-build-sh'], cwd=cache, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return os.path.join(out, image)


def dep5_stanzas(copyright_path):
    """(patterns, licence) of each Files stanza of a machine-readable debian/copyright, in order."""
    stanzas, current, key = [], None, None
    for line in open(copyright_path, encoding='utf-8', errors='replace'):
        if not line.strip():
            if current and current.get('files') and current.get('license'):
                stanzas.append((current['files'], current['license']))
            current, key = None, None
            continue
        if line[0] in ' \t':
            if current is not None and key == 'files':
                current['files'] += line.split()
            continue
        name, _, value = line.partition(':')
        key = name.strip().lower()
        current = current or {}
        if key == 'files':
            current['files'] = value.split()
        elif key == 'license':
            current['license'] = value.strip()
    if current and current.get('files') and current.get('license'):
        stanzas.append((current['files'], current['license']))
    return stanzas


def licence_for(file, stanzas):
    """DEP-5 patterns name source paths, not installed ones: match them against the tails of the
    installed path (the last matching stanza wins, as the format says); failing that, against the
    file name alone (sources often keep photos in a folder the package does not install); failing
    that, the `Files: *` stanza."""
    parts = file.split('/')
    tails = ['/'.join(parts[i:]) for i in range(len(parts))]
    by_path = by_name = by_default = None
    for patterns, licence in stanzas:
        for pattern in patterns:
            if pattern == '*':
                by_default = ('*', licence)
            elif any(fnmatch.fnmatchcase(t, pattern) for t in tails):
                by_path = (pattern, licence)
            elif fnmatch.fnmatchcase(parts[-1], pattern.split('/')[-1]) and '*' not in pattern.split('/')[-1]:
                by_name = (pattern, licence)
    return by_path or by_name or by_default


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def build_manifest(rows, work):
    debs = os.path.join(work, 'debs')
    os.makedirs(debs, exist_ok=True)
    packages, photos = {}, []
    for row in rows:
        pkg = row['package']
        deb = download(pkg, debs)
        root = extract(deb, os.path.join(work, 'pkgs', pkg))
        packages[pkg] = deb_version(deb)
        inner, _, image = row['file'].partition(':')
        path = os.path.realpath(os.path.join(root, inner))
        if image:
            path = from_edj(path, image, os.path.join(work, 'edj'))
        with Image.open(path) as im:
            width, height = im.size
        stanzas = dep5_stanzas(os.path.join(root, 'usr/share/doc', pkg, 'copyright'))
        match = licence_for(inner, stanzas)
        if match is None:
            raise SystemExit(f'{pkg}: no licence found for {inner} in its copyright file')
        photos.append({**row, 'version': packages[pkg], 'licence': match[1], 'licence_files_pattern': match[0],
                       'width': width, 'height': height, 'bytes': os.path.getsize(path), 'sha256': sha256(path),
                       'local_path': os.path.relpath(path, work)})
    return {'format': 'stream-sr-training-data/1', 'source': 'Debian 12 (bookworm) packages, apt-get download',
            'selection': 'models/train/photos.tsv', 'packages': packages, 'photos': photos}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--work', default=os.path.join(HERE, 'work'))
    ap.add_argument('--selection', default=os.path.join(HERE, 'photos.tsv'))
    ap.add_argument('--manifest', default=os.path.join(HERE, 'data-manifest.json'))
    args = ap.parse_args()
    manifest = build_manifest(read_selection(args.selection), args.work)
    with open(args.manifest, 'w', encoding='utf-8') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    n = len(manifest['photos'])
    mp = sum(p['width'] * p['height'] for p in manifest['photos']) / 1e6
    print(f'{n} photos ({mp:.0f} megapixels) from {len(manifest["packages"])} packages -> {args.manifest}', file=sys.stderr)


if __name__ == '__main__':
    main()

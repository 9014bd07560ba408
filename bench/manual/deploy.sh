# The hoster's manual deploy procedure, as one remote shell script (bench column "manual").
# bench/deploy.ts runs it as the command of ONE ssh session whose stdin is a tar stream of
# the project (app/ with wwwshare.wsgi and requirements.lock) and the wheelhouse:
#
#   tar -C STAGE -cf - app wheelhouse | ssh wwwsharef@host "$(cat bench/manual/deploy.sh)"
#
# It has no change detection, so every deploy (the no-op too) does the whole procedure:
# upload, rm -r venv, python3 -m venv, pip install -r requirements, pip freeze, touch.
# Not done (it would only make this column slower): the pip/setuptools/wheel self-upgrade
# that the hoster's docs put before the install.
set -eu
cd "$HOME"
rm -rf upload
mkdir -p upload public private
tar -xf - -C upload
cp -R upload/app/. public/
cp upload/app/requirements.lock private/requirements.txt
rm -rf private/venv
/usr/bin/python3 -m venv private/venv
private/venv/bin/pip install --disable-pip-version-check --no-input --no-index \
  --find-links "$HOME/upload/wheelhouse" -r private/requirements.txt >/dev/null
private/venv/bin/pip freeze --local >private/freeze.txt
touch public/wwwshare.wsgi
